import { chmodSync, lstatSync, mkdirSync, readFileSync, renameSync, rmSync, rmdirSync, writeFileSync, type Stats } from "node:fs";
import { dirname, isAbsolute, join, normalize, sep } from "node:path";

/** One file of a staged job directory. `load` is called only when the file must be (re)written. */
export interface StageEntry {
  path: string;
  mode: number;
  hash: string;
  load(): Buffer;
}

export interface StageResult {
  written: number;
  removed: number;
  kept: number;
}

/** path -> [content hash, mode, size, mtime in ms] as last written. */
interface Manifest {
  v: 3;
  files: Record<string, ManifestFile>;
}
type ManifestFile = [hash: string, mode: number, size: number, mtimeMs: number];

/**
 * Brings `dir` to exactly `entries`, writing only what changed since its last staging: the
 * manifest beside it records each file's hash and mode as written, and its size and mtime as
 * the disk then had them. Hooks run in the staged directory and may delete or edit its files;
 * one lstat per file (no read) finds that, so the next run gets the snapshot again while an
 * untouched job of thousands of files is still restaged without writing anything. Files
 * dropped from the snapshot are deleted; deleting the directory or its manifest makes the next
 * staging rebuild it from scratch.
 */
export function stageDirectory(dir: string, manifestFile: string, entries: Iterable<StageEntry>): StageResult {
  let prev = readManifest(manifestFile);
  // A hook may even have replaced its own directory (with a symlink, too: rm does not follow it).
  if (prev && !lstatIfAny(dir)?.isDirectory()) prev = undefined;
  if (!prev) rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const next: Manifest = { v: 3, files: {} };
  const dirs = new Set<string>();
  const result: StageResult = { written: 0, removed: 0, kept: 0 };

  for (const e of entries) {
    const rel = safeRelative(e.path);
    // rel is normalised and relative: a plain concatenation is join() without its cost per file.
    const file = `${dir}${sep}${rel}`;
    const old = prev?.files[rel];
    if (old && old[0] === e.hash && old[1] === e.mode && unchangedOnDisk(file, old)) {
      next.files[rel] = old;
      result.kept++;
      continue;
    }
    ensureRealDirs(dir, dirname(rel), dirs);
    const st = writeFile(file, e.load(), e.mode);
    next.files[rel] = [e.hash, e.mode, st.size, st.mtimeMs];
    result.written++;
  }

  for (const rel of Object.keys(prev?.files ?? {})) {
    if (rel in next.files) continue;
    rmSync(join(dir, rel), { force: true });
    pruneEmptyParents(dir, join(dir, rel));
    result.removed++;
  }
  if (!prev || result.written || result.removed) writeManifest(manifestFile, next);
  return result;
}

/** undefined when nothing is there, also when a parent is no directory any more (ENOTDIR). */
function lstatIfAny(path: string): Stats | undefined {
  try {
    return lstatSync(path, { throwIfNoEntry: false });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOTDIR") return undefined;
    throw err;
  }
}

/** Still the file staging wrote: a regular file of the same size, mtime and mode. */
function unchangedOnDisk(file: string, [, mode, size, mtimeMs]: ManifestFile): boolean {
  const st = lstatIfAny(file);
  return st !== undefined && st.isFile() && st.size === size && st.mtimeMs === mtimeMs && (st.mode & 0o7777) === mode;
}

/**
 * `rel`'s directories under `root` as real directories. A hook may have replaced one with a
 * file or a symlink (say to /etc): writing through it would put a job file outside tmp/.
 */
function ensureRealDirs(root: string, rel: string, done: Set<string>): void {
  if (rel === "." || done.has(rel)) return;
  ensureRealDirs(root, dirname(rel), done);
  const abs = join(root, rel);
  const st = lstatIfAny(abs);
  if (st && !st.isDirectory()) rmSync(abs, { force: true });
  if (!st || !st.isDirectory()) mkdirSync(abs);
  done.add(rel);
}

function writeFile(file: string, content: Buffer, mode: number): Stats {
  const st = lstatIfAny(file);
  // writeFileSync follows a symlink a hook left in place of the file; a directory cannot be written.
  if (st && !st.isFile()) rmSync(file, { recursive: true, force: true });
  try {
    writeFileSync(file, content, { mode });
  } catch (err) {
    // A read-only file left by an earlier staging (e.g. a 0400 key): replace it.
    if ((err as NodeJS.ErrnoException).code !== "EACCES") throw err;
    rmSync(file, { force: true });
    writeFileSync(file, content, { mode });
  }
  // The umask only ever removes bits on create, and an existing file keeps its old mode.
  let written = lstatSync(file);
  if ((written.mode & 0o7777) !== mode) {
    chmodSync(file, mode);
    written = lstatSync(file);
  }
  return written;
}

/** Job file paths come from the catalog; still, nothing may be written outside the staged dir. */
function safeRelative(path: string): string {
  const rel = normalize(path);
  if (isAbsolute(rel) || rel === ".." || rel.startsWith(`..${sep}`) || rel === "." || rel === "") {
    throw new Error(`refusing to stage ${JSON.stringify(path)}: not a path inside the job directory`);
  }
  return rel;
}

function pruneEmptyParents(root: string, file: string): void {
  for (let d = dirname(file); d.length > root.length && d.startsWith(root); d = dirname(d)) {
    try {
      rmdirSync(d);
    } catch {
      return; // not empty (or already gone): stop climbing
    }
  }
}

function readManifest(file: string): Manifest | undefined {
  try {
    const m = JSON.parse(readFileSync(file, "utf8")) as Manifest;
    // Older manifests lack size and mtime: their directories are restaged once from scratch.
    return m && m.v === 3 && typeof m.files === "object" ? m : undefined;
  } catch {
    return undefined;
  }
}

function writeManifest(file: string, m: Manifest): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(m));
  renameSync(tmp, file);
}
