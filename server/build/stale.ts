import { createHash } from "node:crypto";
import { existsSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { BucketPaths } from "../bucket/paths.js";
import { buildId, listJobFileHashes, listJobs } from "../store/catalog.js";
import type { Db } from "../store/db.js";
import { listJobFilePaths, listJobTree } from "../workspace/job-files.js";
import { listJobDirs } from "../workspace/job-dirs.js";
import { Problems } from "../workspace/problems.js";
import { MaandError, UsageError } from "../errors.js";
import type { Logger } from "../log/logger.js";

/**
 * Whether the workspace's job files still are what the last build put in the catalog: hooks,
 * deploy and job control run the built snapshot, so an operator who edited a file and forgot
 * `maand build` must be told. Cheap, as every deploy runs it: build records in
 * tmp/build-stat.json, under its build id (migration 7), each file's size, mtime and hash and
 * each job directory's mtime. When the catalog's build id is the file's, its hashes are the
 * catalog's (no read of job_files), and when no directory's mtime moved, no file was added,
 * removed or renamed (no walk): one stat per file and directory. Only a file whose stat moved
 * is hashed. A job whose walk followed a symlink is always walked: what a link points at can
 * change without any directory of the job changing.
 */

/** tmp/build-stat.json (version 2). */
interface StatCache {
  v: 2;
  build_id: string;
  jobs: Record<string, JobStat>;
}

interface JobStat {
  /** Per file: [size, mtimeMs, sha256]; size -1 when it could not be stat-ed at record time. */
  files: Record<string, [number, number, string]>;
  /** Per walked directory ("" is the job dir): mtimeMs; null: walk every time (symlinks, or the tree moved during the build). */
  dirs: Record<string, number> | null;
}

export interface StaleReport {
  /** Workspace-relative paths (jobs/<job>/<file>), sorted. */
  changed: string[];
  added: string[];
  removed: string[];
}

export const isStale = (r: StaleReport): boolean => r.changed.length + r.added.length + r.removed.length > 0;

const cacheFile = (paths: BucketPaths): string => join(paths.tmp, "build-stat.json");

/** Called by build once it committed (`buildId` is the one it committed): what later checks compare against. */
export function recordBuiltFiles(paths: BucketPaths, jobs: ReadonlyArray<{ name: string; files: ReadonlyArray<{ path: string; hash: string }> }>, buildId: string): void {
  const cache: StatCache = { v: 2, build_id: buildId, jobs: {} };
  for (const job of jobs) {
    const dir = join(paths.jobs, job.name);
    const files: JobStat["files"] = {};
    for (const f of job.files) {
      const st = statSync(join(dir, f.path), { throwIfNoEntry: false });
      files[f.path] = st ? [st.size, st.mtimeMs, f.hash] : [-1, 0, f.hash];
    }
    cache.jobs[job.name] = { files, dirs: directoryStamps(dir, files) };
  }
  const tmp = `${cacheFile(paths)}.${process.pid}`;
  writeFileSync(tmp, JSON.stringify(cache));
  renameSync(tmp, cacheFile(paths));
}

/** The job's directory mtimes, or null when they cannot vouch for its file list. */
function directoryStamps(dir: string, files: JobStat["files"]): Record<string, number> | null {
  let tree;
  try {
    tree = listJobTree(new Problems().in("workspace/jobs"), dir);
  } catch {
    return null;
  }
  // The tree as walked now must be the one build read, or the stamps would vouch for another.
  if (tree.links || tree.files.length !== Object.keys(files).length || tree.files.some((f) => !(f.rel in files))) return null;
  const stamps: Record<string, number> = {};
  for (const rel of tree.dirs) {
    const st = statSync(rel ? join(dir, rel) : dir, { throwIfNoEntry: false });
    if (!st) return null;
    stamps[rel] = st.mtimeMs;
  }
  return stamps;
}

function readCache(paths: BucketPaths): StatCache | undefined {
  let c: Partial<StatCache> & Record<string, unknown>;
  try {
    c = JSON.parse(readFileSync(cacheFile(paths), "utf8")) as typeof c;
  } catch {
    return undefined;
  }
  if (c.v === 2) return typeof c.build_id === "string" && c.jobs ? (c as StatCache) : undefined;
  // Version 1 (before build ids), {"<job>/<path>": {size, mtimeMs, hash}}: its stats still spare
  // the hashing until the next build writes version 2.
  const jobs: StatCache["jobs"] = {};
  for (const [id, e] of Object.entries(c as Record<string, { size: number; mtimeMs: number; hash: string }>)) {
    const slash = id.indexOf("/");
    (jobs[id.slice(0, slash)] ??= { files: {}, dirs: null }).files[id.slice(slash + 1)] = [e.size, e.mtimeMs, e.hash];
  }
  return { v: 2, build_id: "", jobs };
}

/** No directory of the job changed since build recorded it: its file list is the one recorded. */
function sameTree(dir: string, stamps: Record<string, number>): boolean {
  for (const rel in stamps) if (statSync(rel ? join(dir, rel) : dir, { throwIfNoEntry: false })?.mtimeMs !== stamps[rel]) return false;
  return true;
}

export function checkStaleCatalog(paths: BucketPaths, db: Db): StaleReport {
  const steps = staleCheckSteps(paths, db);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/**
 * The same check in slices, yielding to the event loop between them: deploy runs it while the
 * workers answer its first requests, which then are not kept waiting behind 2,000 stats.
 */
export async function checkStaleCatalogInSlices(paths: BucketPaths, db: Db): Promise<StaleReport> {
  const steps = staleCheckSteps(paths, db);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
    await new Promise((r) => setImmediate(r));
  }
}

/** Files checked between two yields of staleCheckSteps. */
const SLICE = 100;

function* staleCheckSteps(paths: BucketPaths, db: Db): Generator<void, StaleReport> {
  const report: StaleReport = { changed: [], added: [], removed: [] };
  const cache = readCache(paths);
  // The recorded hashes are the catalog's only if the catalog is still that build's.
  const current = cache !== undefined && cache.build_id !== "" && cache.build_id === buildId(db);
  // Problems in the workspace are build's to report; here they only mean "not the same".
  const problems = new Problems().in("workspace/jobs");
  const workspaceJobs = existsSync(paths.jobs) ? listJobDirs(problems, paths.jobs) : [];
  const builtJobs = new Set(listJobs(db).map((j) => j.name));
  let n = 0;
  for (const job of new Set([...workspaceJobs, ...builtJobs])) {
    yield;
    const dir = join(paths.jobs, job);
    const recorded = cache?.jobs[job];
    const trusted = current && builtJobs.has(job) && recorded !== undefined ? recorded : undefined;
    const built = trusted
      ? new Map(Object.entries(trusted.files).map(([path, f]) => [path, f[2]]))
      : new Map(listJobFileHashes(db, job).map((f) => [f.path, f.hash]));
    let present: Array<{ rel: string; abs: string }> = [];
    if (workspaceJobs.includes(job)) {
      present = trusted?.dirs && sameTree(dir, trusted.dirs) ? Object.keys(trusted.files).map((rel) => ({ rel, abs: join(dir, rel) })) : safeList(problems, dir);
    }
    for (const f of present) {
      if (++n % SLICE === 0) yield;
      const id = `${job}/${f.rel}`;
      const hash = built.get(f.rel);
      built.delete(f.rel);
      if (hash === undefined) {
        report.added.push(`jobs/${id}`);
        continue;
      }
      const st = statSync(f.abs, { throwIfNoEntry: false });
      if (!st) {
        report.removed.push(`jobs/${id}`);
        continue;
      }
      const c = recorded?.files[f.rel];
      if (c && c[0] === st.size && c[1] === st.mtimeMs && c[2] === hash) continue;
      if (createHash("sha256").update(readFileSync(f.abs)).digest("hex") !== hash) report.changed.push(`jobs/${id}`);
    }
    for (const rel of built.keys()) report.removed.push(`jobs/${job}/${rel}`);
  }
  for (const list of Object.values(report)) (list as string[]).sort();
  return report;
}

function safeList(problems: ReturnType<Problems["in"]>, dir: string): Array<{ rel: string; abs: string }> {
  try {
    return listJobFilePaths(problems, dir);
  } catch {
    return [];
  }
}

/** What the operator should do about a stale catalog, per command. */
export const STALE_FIX = {
  /** hooks and deploy: they run or ship the built snapshot, and have --build. */
  build: "maand runs the built snapshot; run 'maand build' first, or pass --build",
  /** job control runs what the last deploy put on the workers. */
  deploy: "job control runs what the last deploy shipped; run 'maand build' and 'maand deploy' to ship it",
} as const;

/** One line naming what changed (at most a few files of each kind), for warnings and hints. */
export function describeStale(r: StaleReport, fix: string = STALE_FIX.build): string {
  const part = (what: string, list: string[]) =>
    list.length ? `${what} ${list.slice(0, 5).join(", ")}${list.length > 5 ? ` and ${list.length - 5} more` : ""}` : "";
  const parts = [part("changed", r.changed), part("added", r.added), part("removed", r.removed)].filter(Boolean).join("; ");
  return `the workspace changed since the last 'maand build' (${parts}): ${fix}`;
}

type StaleCheckContext = { paths: BucketPaths; db: Db; log: Logger };

/** Warns (naming the files) when the workspace changed since the last build; returns what it found. */
export function warnIfStale(ctx: StaleCheckContext, fix: string = STALE_FIX.build): StaleReport {
  return warned(ctx, checkStaleCatalog(ctx.paths, ctx.db), fix);
}

/** warnIfStale in slices (checkStaleCatalogInSlices). */
export async function warnIfStaleInSlices(ctx: StaleCheckContext, fix: string = STALE_FIX.build): Promise<StaleReport> {
  return warned(ctx, await checkStaleCatalogInSlices(ctx.paths, ctx.db), fix);
}

function warned(ctx: StaleCheckContext, stale: StaleReport, fix: string): StaleReport {
  if (isStale(stale)) ctx.log.warn(describeStale(stale, fix));
  return stale;
}

/**
 * Plans against the catalog, first warning when the workspace changed since the last build; a
 * plan that fails on something the catalog does not know yet (a new hook or job) gets the same
 * hint in its error.
 */
export function planWithStaleHint<T>(ctx: StaleCheckContext, plan: () => T, fix: string = STALE_FIX.build): T {
  const stale = warnIfStale(ctx, fix);
  try {
    return plan();
  } catch (err) {
    if (err instanceof MaandError && !(err instanceof UsageError) && isStale(stale)) {
      throw new MaandError(`${err.message}\n(${describeStale(stale, fix)})`, err.exitCode, { cause: err });
    }
    throw err;
  }
}
