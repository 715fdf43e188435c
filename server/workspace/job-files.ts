import { createHash } from "node:crypto";
import { readdirSync, readFileSync, readlinkSync, realpathSync, statSync, type Dirent } from "node:fs";
import { join } from "node:path";
import type { JobFile } from "./model.js";
import type { FileProblems } from "./problems.js";

/** Tool-managed directories that never belong in the catalog, skipped at any depth. */
export const SKIPPED_DIRS: ReadonlySet<string> = new Set([".venv", "venv", "node_modules", "__pycache__"]);
/** Created on workers at runtime; a job that ships them would overwrite live state. */
export const RUNTIME_DIRS: readonly string[] = ["data", "logs", "bin"];

interface Found {
  rel: string;
  abs: string;
}

/**
 * Every regular file under the job dir (symlinks followed), sorted by POSIX path.
 * Problems are reported against the job dir (`p.file`) with the entry's relative path.
 */
export function readJobFiles(p: FileProblems, jobDir: string): JobFile[] {
  const found: Found[] = [];
  walk(p, { abs: jobDir, rel: "", real: realpathSync(jobDir) }, [], found);
  found.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
  const files: JobFile[] = [];
  for (const f of found) {
    try {
      const content = readFileSync(f.abs);
      const mode = statSync(f.abs).mode & 0o777;
      files.push({ path: f.rel, mode, hash: createHash("sha256").update(content).digest("hex"), content });
    } catch (err) {
      p.add(f.rel, `cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)}); expected a readable file`);
    }
  }
  return files;
}

interface Dir {
  abs: string;
  rel: string;
  /** Real path, to detect symlink loops (a plain subdirectory's is its parent's plus its name). */
  real: string;
}

function walk(p: FileProblems, dir: Dir, ancestors: string[], found: Found[]): void {
  const { abs, rel } = dir;
  const chain = [...ancestors, dir.real];
  let entries: Dirent[];
  try {
    entries = readdirSync(abs, { withFileTypes: true });
  } catch (err) {
    p.add(rel === "" ? "." : `${rel}/`, `cannot be listed (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    return;
  }
  for (const entry of entries) {
    const childAbs = join(abs, entry.name);
    const childRel = rel === "" ? entry.name : `${rel}/${entry.name}`;
    if (entry.isFile()) found.push({ rel: childRel, abs: childAbs });
    else if (entry.isDirectory()) visitDir(p, { abs: childAbs, rel: childRel, real: join(dir.real, entry.name) }, chain, found);
    else if (entry.isSymbolicLink()) visitLink(p, childAbs, childRel, chain, found);
    else p.add(childRel, "is not a regular file or directory (socket, FIFO or device); expected only files");
  }
}

function visitDir(p: FileProblems, dir: Dir, chain: string[], found: Found[]): void {
  const name = dir.rel.slice(dir.rel.lastIndexOf("/") + 1);
  if (SKIPPED_DIRS.has(name)) return;
  if (chain.length === 1 && RUNTIME_DIRS.includes(name)) {
    p.add(`${dir.rel}/`, `is a runtime directory (${RUNTIME_DIRS.map((d) => `${d}/`).join(", ")} are created on workers); expected it not to exist in the job`);
    return;
  }
  walk(p, dir, chain, found);
}

function visitLink(p: FileProblems, abs: string, rel: string, chain: string[], found: Found[]): void {
  let target;
  try {
    target = statSync(abs);
  } catch {
    p.add(rel, `is a dangling symlink (-> ${safeReadlink(abs)}); expected it to resolve to a file`);
    return;
  }
  if (target.isFile()) found.push({ rel, abs });
  else if (target.isDirectory()) {
    // A link back to a directory being walked would make the walk endless.
    const real = realpathSync(abs);
    if (chain.includes(real)) {
      p.add(rel, `is a symlink loop (-> ${safeReadlink(abs)}); expected a link to a file or to a directory outside its own path`);
      return;
    }
    visitDir(p, { abs, rel, real }, chain, found);
  } else p.add(rel, "is a symlink to something that is not a file or directory; expected only files");
}

function safeReadlink(abs: string): string {
  try {
    return readlinkSync(abs);
  } catch {
    return "?";
  }
}
