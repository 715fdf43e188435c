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

/**
 * Per staged file, in staging order: path, content hash and mode as written, size and mtime as
 * the disk then had them. Parallel arrays of plain values: a manifest of 5,000 files is parsed
 * and walked 20 times per run of a 20-worker job, and this is what keeps that cheap.
 */
interface Manifest {
  v: 3;
  paths: string[];
  hashes: string[];
  modes: number[];
  sizes: number[];
  mtimes: number[];
}

const emptyManifest = (): Manifest => ({ v: 3, paths: [], hashes: [], modes: [], sizes: [], mtimes: [] });

/**
 * Brings `dir` to exactly `entries`, writing only what changed since its last staging, as the
 * manifest beside it records. Hooks run in the staged directory and may delete or edit its
 * files: one lstat per file (no read) compares it with the manifest, so the next run gets the
 * snapshot again while an untouched job of thousands of files is restaged without writing
 * anything. Files dropped from the snapshot are deleted; deleting the directory or its
 * manifest makes the next staging rebuild it from scratch.
 */
export function stageDirectory(dir: string, manifestFile: string, entries: Iterable<StageEntry>): StageResult {
  let prev = readManifest(manifestFile);
  // A hook may even have replaced its own directory (with a symlink, too: rm does not follow it).
  if (prev && !lstatIfAny(dir)?.isDirectory()) prev = undefined;
  if (!prev) rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const old = prev ?? emptyManifest();
  const find = finder(old.paths);
  const stillThere = new Uint8Array(old.paths.length);
  const next = emptyManifest();
  const dirs = new Set<string>();
  const result: StageResult = { written: 0, removed: 0, kept: 0 };

  for (const e of entries) {
    const rel = safeRelative(e.path);
    // rel is normalised and relative: a plain concatenation is join() without its cost per file.
    const file = `${dir}${sep}${rel}`;
    const i = find(rel);
    if (i !== undefined) stillThere[i] = 1;
    let size: number;
    let mtime: number;
    if (i !== undefined && old.hashes[i] === e.hash && old.modes[i] === e.mode && unchangedOnDisk(file, e.mode, old.sizes[i]!, old.mtimes[i]!)) {
      [size, mtime] = [old.sizes[i]!, old.mtimes[i]!];
      result.kept++;
    } else {
      ensureRealDirs(dir, dirname(rel), dirs);
      const st = writeFile(file, e.load(), e.mode);
      [size, mtime] = [st.size, st.mtimeMs];
      result.written++;
    }
    next.paths.push(rel);
    next.hashes.push(e.hash);
    next.modes.push(e.mode);
    next.sizes.push(size);
    next.mtimes.push(mtime);
  }

  old.paths.forEach((rel, i) => {
    if (stillThere[i]) return;
    rmSync(join(dir, rel), { force: true });
    pruneEmptyParents(dir, join(dir, rel));
    result.removed++;
  });
  if (!prev || result.written || result.removed) writeManifest(manifestFile, next);
  return result;
}

/**
 * Index of a path in the last manifest. The snapshot comes in the same order every time, so
 * the next index is tried first and a map is built only if the order ever differs.
 */
function finder(paths: readonly string[]): (rel: string) => number | undefined {
  let cursor = 0;
  let index: Map<string, number> | undefined;
  return (rel) => {
    if (paths[cursor] === rel) return cursor++;
    index ??= new Map(paths.map((p, i) => [p, i]));
    const i = index.get(rel);
    if (i !== undefined) cursor = i + 1;
    return i;
  };
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
function unchangedOnDisk(file: string, mode: number, size: number, mtimeMs: number): boolean {
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
    const n = m?.v === 3 && Array.isArray(m.paths) ? m.paths.length : -1;
    return n >= 0 && [m.hashes, m.modes, m.sizes, m.mtimes].every((a) => Array.isArray(a) && a.length === n) ? m : undefined;
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
