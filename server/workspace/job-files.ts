import { createHash } from "node:crypto";
import { readdirSync, readlinkSync, realpathSync, statSync, type Dirent } from "node:fs";
import { join, sep } from "node:path";
import type { JobFile } from "./model.js";
import type { FileProblems } from "./problems.js";
import { readBoundedFile } from "./job-file-read.js";
import { entryName } from "./entry-name.js";
import type { BucketGuard } from "./bucket-guard.js";

/** Tool-managed directories that never belong in the catalog, skipped at any depth. */
export const SKIPPED_DIRS: ReadonlySet<string> = new Set([".venv", "venv", "node_modules", "__pycache__"]);
/** Created on workers at runtime; a job that ships them would overwrite live state. */
export const RUNTIME_DIRS: readonly string[] = ["data", "logs", "bin"];

interface Found {
  rel: string;
  abs: string;
}

interface Walk {
  p: FileProblems;
  /** Real path of the job directory: every link must resolve inside it. */
  root: string;
  found: Found[];
  /** Relative paths of the directories walked ("" is the job dir). */
  dirs: string[];
  /** A symlink was followed: what it points at can change without any walked directory changing. */
  links: boolean;
}

/**
 * Every regular file under the job dir, sorted by POSIX path. Symlinks are followed only while
 * they stay inside the job directory: a link to /etc/shadow or ../../../secrets/kv.key would
 * otherwise be copied into maand.db in plaintext and staged for every hook. Problems are
 * reported against the job dir (`p.file`) with the entry's relative path.
 */
export function readJobFiles(p: FileProblems, jobDir: string, guard?: BucketGuard): JobFile[] {
  const files: JobFile[] = [];
  for (const f of listJobFilePaths(p, jobDir)) {
    const read = readBoundedFile(f.abs, { forbidden: guard?.inodes });
    if ("problem" in read) p.add(f.rel, read.problem);
    else files.push({ path: f.rel, mode: read.mode, hash: createHash("sha256").update(read.content).digest("hex"), content: read.content });
  }
  return files;
}

/**
 * The files build would index, by job-relative path and the path to read them at, without
 * reading them: the same walk, skips and link rules as readJobFiles.
 */
export function listJobFilePaths(p: FileProblems, jobDir: string): Array<{ rel: string; abs: string }> {
  return listJobTree(p, jobDir).files;
}

/** listJobFilePaths with the directories it walked and whether it followed a symlink. */
export function listJobTree(p: FileProblems, jobDir: string): { files: Found[]; dirs: string[]; links: boolean } {
  const root = realpathSync(jobDir);
  const w: Walk = { p, root, found: [], dirs: [], links: false };
  walk(w, { abs: jobDir, rel: "", real: root }, []);
  return { files: w.found.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0)), dirs: w.dirs, links: w.links };
}

interface Dir {
  abs: string;
  rel: string;
  /** Real path, to detect symlink loops (a plain subdirectory's is its parent's plus its name). */
  real: string;
}

const code = (err: unknown): string => (err as NodeJS.ErrnoException).code ?? String(err);

function walk(w: Walk, dir: Dir, ancestors: string[]): void {
  const { abs, rel } = dir;
  const shownDir = rel === "" ? "." : `${rel}/`;
  const chain = [...ancestors, dir.real];
  w.dirs.push(rel);
  let entries: Dirent<Buffer>[];
  try {
    // Raw names: a name that is not UTF-8 would otherwise be decoded to U+FFFD and then not exist.
    entries = readdirSync(abs, { withFileTypes: true, encoding: "buffer" });
  } catch (err) {
    w.p.add(shownDir, `cannot be listed (${code(err)})`);
    return;
  }
  for (const entry of entries) {
    const name = entryName(entry.name);
    if ("notUtf8" in name) {
      w.p.add(shownDir, `holds a file name that is not valid UTF-8 ("${name.notUtf8}"); expected UTF-8 names (rename it, e.g. with convmv)`);
      continue;
    }
    const childAbs = join(abs, name.text);
    const childRel = rel === "" ? name.text : `${rel}/${name.text}`;
    if (entry.isFile()) w.found.push({ rel: childRel, abs: childAbs });
    else if (entry.isDirectory()) visitDir(w, { abs: childAbs, rel: childRel, real: join(dir.real, name.text) }, chain);
    else if (entry.isSymbolicLink()) visitLink(w, childAbs, childRel, chain);
    else w.p.add(childRel, "is not a regular file or directory (socket, FIFO or device); expected only files");
  }
}

function visitDir(w: Walk, dir: Dir, chain: string[]): void {
  const name = dir.rel.slice(dir.rel.lastIndexOf("/") + 1);
  if (SKIPPED_DIRS.has(name)) return;
  if (chain.length === 1 && RUNTIME_DIRS.includes(name)) {
    w.p.add(`${dir.rel}/`, `is a runtime directory (${RUNTIME_DIRS.map((d) => `${d}/`).join(", ")} are created on workers); expected it not to exist in the job`);
    return;
  }
  walk(w, dir, chain);
}

function visitLink(w: Walk, abs: string, rel: string, chain: string[]): void {
  w.links = true;
  const target = safeReadlink(abs);
  let real: string;
  try {
    real = realpathSync(abs);
  } catch (err) {
    if (code(err) === "ELOOP") w.p.add(rel, `is a symlink loop (-> ${target}); expected a link that resolves to a file or directory`);
    else w.p.add(rel, `is a dangling symlink (-> ${target}); expected it to resolve to a file`);
    return;
  }
  if (real !== w.root && !real.startsWith(w.root + sep)) {
    w.p.add(rel, `is a symlink to ${target} (${real}), outside the job directory; expected links to stay inside the job (copy the file in instead)`);
    return;
  }
  let stat;
  try {
    stat = statSync(real);
  } catch (err) {
    w.p.add(rel, `cannot be read (${code(err)}); expected a readable file`);
    return;
  }
  if (stat.isFile()) w.found.push({ rel, abs: real });
  else if (stat.isDirectory()) {
    // A link back to a directory being walked would make the walk endless.
    if (chain.includes(real)) {
      w.p.add(rel, `is a symlink loop (-> ${target}); expected a link to a file or to a directory outside its own path`);
      return;
    }
    visitDir(w, { abs, rel, real }, chain);
  } else w.p.add(rel, "is a symlink to something that is not a file or directory; expected only files");
}

function safeReadlink(abs: string): string {
  try {
    return readlinkSync(abs);
  } catch {
    return "?";
  }
}
