import { readFileSync } from "node:fs";
import { join } from "node:path";
import { templatesDir } from "./paths.js";

/**
 * Turns a hand-written template into SDK text. Templates are real, runnable files; two markers
 * at the end of a line connect them to the generator:
 *   `codegen:strip`  the line exists only for editors and stand-alone tests (imports of the
 *                    generated SDK or of sibling templates) and is dropped;
 *   `codegen:value`  the line defines a constant (`NAME = ...`) whose value the generator
 *                    supplies from openapi.json and the router, so templates never spell a
 *                    header name, status or namespace themselves.
 */
export type SdkValue = string | number | boolean | null | readonly SdkValue[] | { readonly [k: string]: SdkValue };

export interface Lang {
  comment: "#" | "//";
  literal(v: SdkValue): string;
}

export class TemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TemplateError";
  }
}

export function readTemplate(relPath: string, root?: string): { name: string; text: string } {
  return { name: relPath, text: readFileSync(join(templatesDir(root), relPath), "utf8") };
}

export function fillTemplate(
  template: { name: string; text: string },
  lang: Lang,
  values: Readonly<Record<string, SdkValue>>,
  /** Constants already defined by an earlier template of the same file: not defined again. */
  emitted: Set<string> = new Set(),
): string {
  const strip = `${lang.comment} codegen:strip`;
  const value = `${lang.comment} codegen:value`;
  const out: string[] = [];
  template.text.split("\n").forEach((line, i) => {
    if (line.trimEnd().endsWith(strip)) return;
    if (!line.trimEnd().endsWith(value)) {
      out.push(line);
      return;
    }
    const m = /^((?:export )?(?:const )?([A-Za-z_][A-Za-z0-9_]*)(?:: [^=]+)? = ).*$/.exec(line);
    const name = m?.[2];
    if (!m || !name) throw new TemplateError(`${template.name}:${i + 1}: a codegen:value line must read NAME = ...`);
    if (!(name in values)) throw new TemplateError(`${template.name}:${i + 1}: the generator has no value for ${name}`);
    if (emitted.has(name)) return;
    emitted.add(name);
    out.push(`${m[1]}${lang.literal(values[name] as SdkValue)}${lang.comment === "//" ? ";" : ""}`);
  });
  return out.join("\n");
}
