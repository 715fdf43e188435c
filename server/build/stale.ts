import { createHash } from "node:crypto";
import { existsSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { BucketPaths } from "../bucket/paths.js";
import { listJobFileHashes, listJobs } from "../store/catalog.js";
import type { Db } from "../store/db.js";
import { listJobFilePaths } from "../workspace/job-files.js";
import { listJobDirs } from "../workspace/job-dirs.js";
import { Problems } from "../workspace/problems.js";
import { MaandError, UsageError } from "../errors.js";
import type { Logger } from "../log/logger.js";

/**
 * Whether the workspace's job files still are what the last build put in the catalog: hooks,
 * deploy and job control run the built snapshot, so an operator who edited a file and forgot
 * `maand build` must be told. Cheap: one stat per file against the sizes and mtimes the build
 * recorded (tmp/build-stat.json); only a file whose stat moved is hashed.
 */

interface StatEntry {
  size: number;
  mtimeMs: number;
  hash: string;
}

type StatCache = Record<string, StatEntry>;

export interface StaleReport {
  /** Workspace-relative paths (jobs/<job>/<file>), sorted. */
  changed: string[];
  added: string[];
  removed: string[];
}

export const isStale = (r: StaleReport): boolean => r.changed.length + r.added.length + r.removed.length > 0;

const cacheFile = (paths: BucketPaths): string => join(paths.tmp, "build-stat.json");

/** Called by build once it committed: the stats of the files it read, for later checks. */
export function recordBuiltFiles(paths: BucketPaths, jobs: ReadonlyArray<{ name: string; files: ReadonlyArray<{ path: string; hash: string }> }>): void {
  const cache: StatCache = {};
  for (const job of jobs) {
    for (const f of job.files) {
      try {
        const st = statSync(join(paths.jobs, job.name, f.path));
        cache[`${job.name}/${f.path}`] = { size: st.size, mtimeMs: st.mtimeMs, hash: f.hash };
      } catch {
        // gone already: the next check hashes nothing and reports it removed
      }
    }
  }
  const tmp = `${cacheFile(paths)}.${process.pid}`;
  writeFileSync(tmp, JSON.stringify(cache));
  renameSync(tmp, cacheFile(paths));
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
const SLICE = 250;

function* staleCheckSteps(paths: BucketPaths, db: Db): Generator<void, StaleReport> {
  const report: StaleReport = { changed: [], added: [], removed: [] };
  let cache: StatCache = {};
  try {
    cache = existsSync(cacheFile(paths)) ? (JSON.parse(readFileSync(cacheFile(paths), "utf8")) as StatCache) : {};
  } catch {
    cache = {};
  }
  // Problems in the workspace are build's to report; here they only mean "not the same".
  const problems = new Problems().in("workspace/jobs");
  const workspaceJobs = existsSync(paths.jobs) ? listJobDirs(problems, paths.jobs) : [];
  const builtJobs = new Set(listJobs(db).map((j) => j.name));
  let n = 0;
  for (const job of new Set([...workspaceJobs, ...builtJobs])) {
    yield;
    const built = new Map(listJobFileHashes(db, job).map((f) => [f.path, f.hash]));
    const present = workspaceJobs.includes(job) ? safeList(problems, join(paths.jobs, job)) : [];
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
      const c = cache[id];
      if (c && c.size === st.size && c.mtimeMs === st.mtimeMs && c.hash === hash) continue;
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
