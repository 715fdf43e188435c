import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, rmdirSync, statSync, writeFileSync } from "node:fs";
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

/** path -> [content hash, mode] as last written. */
interface Manifest {
  v: 2;
  files: Record<string, [string, number]>;
}

/**
 * Brings `dir` to exactly `entries`, writing only what changed since its last staging: the
 * manifest beside it records each file's hash and mode, so restaging an unchanged job of
 * thousands of files touches no file at all. Files dropped from the snapshot are deleted.
 * tmp/ is maand's own: files edited there behind its back are not looked for (a stat per file
 * would cost more than the whole comparison); deleting the directory or its manifest makes the
 * next staging rebuild it from scratch.
 */
export function stageDirectory(dir: string, manifestFile: string, entries: Iterable<StageEntry>): StageResult {
  let prev = readManifest(manifestFile);
  if (prev && !existsSync(dir)) prev = undefined;
  if (!prev) rmSync(dir, { recursive: true, force: true });
  const next: Manifest = { v: 2, files: {} };
  const made = new Set<string>();
  const result: StageResult = { written: 0, removed: 0, kept: 0 };

  for (const e of entries) {
    const rel = safeRelative(e.path);
    const file = join(dir, rel);
    const old = prev?.files[rel];
    if (old && old[0] === e.hash && old[1] === e.mode) {
      next.files[rel] = old;
      result.kept++;
      continue;
    }
    const parent = dirname(file);
    if (!made.has(parent)) {
      mkdirSync(parent, { recursive: true });
      made.add(parent);
    }
    writeFile(file, e.load(), e.mode);
    next.files[rel] = [e.hash, e.mode];
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

function writeFile(file: string, content: Buffer, mode: number): void {
  try {
    writeFileSync(file, content, { mode });
  } catch (err) {
    // A read-only file left by an earlier staging (e.g. a 0400 key): replace it.
    if ((err as NodeJS.ErrnoException).code !== "EACCES") throw err;
    rmSync(file, { force: true });
    writeFileSync(file, content, { mode });
  }
  // The umask only ever removes bits on create, and an existing file keeps its old mode.
  if ((statSync(file).mode & 0o7777) !== mode) chmodSync(file, mode);
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
    return m && m.v === 2 && typeof m.files === "object" ? m : undefined;
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
