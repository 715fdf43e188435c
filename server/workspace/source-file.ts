import { readFileSync } from "node:fs";
import type { FileProblems } from "./problems.js";

/** Reading one workspace file: absent, unreadable (reported) or its text. */
export type FileText = { status: "missing" } | { status: "unreadable" } | { status: "ok"; text: string };

export function readText(p: FileProblems, absPath: string): FileText {
  try {
    return { status: "ok", text: readFileSync(absPath, "utf8") };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return { status: "missing" };
    p.add("$", `cannot be read (${code ?? String(err)}); expected a readable file`);
    return { status: "unreadable" };
  }
}

export type JsonDoc = { status: "missing" } | { status: "invalid" } | { status: "ok"; value: unknown };

/** Reads and parses a JSON file, reporting syntax errors as "line N, column M". */
export function readJson(p: FileProblems, absPath: string): JsonDoc {
  const file = readText(p, absPath);
  if (file.status === "missing") return file;
  if (file.status === "unreadable") return { status: "invalid" };
  return parseJson(p, file.text);
}

/** Windows editors (Notepad, PowerShell's Out-File) start UTF-8 files with U+FEFF. */
const BOM = "\uFEFF";

/**
 * Parses JSON, accepting a leading UTF-8 BOM, which JSON.parse refuses as an unexpected token.
 * Error positions count from after the BOM, as the editors that write one show columns.
 */
export function parseJson(p: FileProblems, source: string): JsonDoc {
  const text = source.startsWith(BOM) ? source.slice(BOM.length) : source;
  try {
    return { status: "ok", value: JSON.parse(text) };
  } catch (err) {
    const message = (err as Error).message;
    p.add(jsonErrorLocation(text, message), `invalid JSON: ${message.replace(/ in JSON at position \d+.*$/, "")}; expected valid JSON`);
    return { status: "invalid" };
  }
}

function jsonErrorLocation(text: string, message: string): string {
  const lineCol = /line (\d+) column (\d+)/.exec(message);
  if (lineCol) return `line ${lineCol[1]}, column ${lineCol[2]}`;
  const pos = /at position (\d+)/.exec(message);
  return lineColumnAt(text, pos ? Number(pos[1]) : text.length);
}

export function lineColumnAt(text: string, offset: number): string {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return `line ${line}, column ${offset - lineStart + 1}`;
}
