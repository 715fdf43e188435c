import { MaandError } from "../errors.js";
import { mergeByTime } from "./merge.js";
import { describeQuery, matches, type LogQuery } from "./query.js";
import type { LogRecord } from "./record.js";
import { listRuns, RecordReader, runFiles, workerLogFiles } from "./sources.js";

/** Which lines `maand logs show` prints, decided before anything is printed. */
export interface LogSelection {
  runId: string;
  /** logs/runs/<run_id>/ (the invocation logs), or logs/<ip>.log for a run gc already pruned. */
  source: "run" | "worker";
  files: string[];
}

const LATEST_LISTED = 5;

/**
 * The run to show: --run, else the latest run with a line matching the other filters (so
 * `--job api` shows api's latest run, not an empty latest run of another job). Runs are read
 * from logs/runs/; with --worker, a run gc removed from there is still found in the worker's
 * own log. undefined: nothing logged matches.
 */
export function selectLogs(logsDir: string, q: LogQuery): LogSelection | undefined {
  const runs = listRuns(logsDir);
  if (q.run !== undefined) {
    if (runs.includes(q.run)) return { runId: q.run, source: "run", files: matchingFiles(logsDir, q.run, q) };
    const fromWorker = workerSelection(logsDir, q);
    if (fromWorker) return fromWorker;
    const where = q.worker === undefined ? "logs/runs/" : `logs/runs/ nor in logs/${q.worker}.log`;
    const latest = runs.slice(-LATEST_LISTED).reverse();
    throw new MaandError(`no run ${q.run} in ${where} (gc removes runs older than --retain-days); ${latest.length ? `latest runs: ${latest.join(", ")}` : "no run is logged yet"}`);
  }
  for (let i = runs.length - 1; i >= 0; i--) {
    const files = matchingFiles(logsDir, runs[i]!, q);
    if (files.length) return { runId: runs[i]!, source: "run", files };
  }
  return workerSelection(logsDir, q);
}

/** The selected lines, in time order, the last `q.tail` only when asked. */
export function* selectedRecords(sel: LogSelection, q: LogQuery, onSkipped?: (file: string, lines: number) => void): Generator<LogRecord> {
  const readers = sel.files.map((f) => new RecordReader(f));
  const wanted = (r: LogRecord) => r.run_id === sel.runId && matches(q, r);
  // A worker log is already in write order; a run's invocation logs ran side by side.
  const all = sel.source === "worker" ? concat(readers) : mergeByTime(readers);
  const filtered = filter(all, wanted);
  try {
    if (q.tail === undefined) yield* filtered;
    else yield* lastN(filtered, q.tail);
  } finally {
    for (const r of readers) if (r.skipped) onSkipped?.(r.file, r.skipped);
  }
}

export function nothingMatched(q: LogQuery, logsDir: string): string {
  const runs = listRuns(logsDir).length;
  if (!runs && q.worker === undefined) return "no hook run is logged yet (logs/runs/ is empty); run 'maand hooks <hook>' or 'maand build'";
  return `no logged line matches (${describeQuery(q)}) in ${runs} run(s) under logs/runs/${q.worker === undefined ? "" : ` or in logs/${q.worker}.log`}`;
}

/** Invocation logs of the run whose lines match: all lines of one file share job, hook, event and worker. */
function matchingFiles(logsDir: string, runId: string, q: LogQuery): string[] {
  return runFiles(logsDir, runId).filter((f) => {
    const first = new RecordReader(f).next();
    return first !== undefined && matches(q, first);
  });
}

/** A run found in logs/<ip>.log(.1): --run's, else the latest with a matching line. */
function workerSelection(logsDir: string, q: LogQuery): LogSelection | undefined {
  if (q.worker === undefined) return undefined;
  const files = workerLogFiles(logsDir, q.worker);
  let runId = q.run;
  if (runId === undefined) {
    for (const f of files) {
      const reader = new RecordReader(f);
      for (let r = reader.next(); r; r = reader.next()) if (matches(q, r)) runId = r.run_id;
    }
  } else {
    const wanted = runId;
    const found = files.some((f) => {
      const reader = new RecordReader(f);
      for (let r = reader.next(); r; r = reader.next()) if (r.run_id === wanted && matches(q, r)) return true;
      return false;
    });
    if (!found) runId = undefined;
  }
  return runId === undefined ? undefined : { runId, source: "worker", files };
}

function* concat(readers: RecordReader[]): Generator<LogRecord> {
  for (const reader of readers) for (let r = reader.next(); r; r = reader.next()) yield r;
}

function* filter(records: Iterable<LogRecord>, keep: (r: LogRecord) => boolean): Generator<LogRecord> {
  for (const r of records) if (keep(r)) yield r;
}

/** The last n records, holding only n in memory. */
function* lastN(records: Iterable<LogRecord>, n: number): Generator<LogRecord> {
  const ring: LogRecord[] = [];
  let next = 0;
  for (const r of records) {
    if (ring.length < n) ring.push(r);
    else ring[next] = r;
    next = (next + 1) % n;
  }
  if (ring.length < n) yield* ring;
  else for (let i = 0; i < n; i++) yield ring[(next + i) % n]!;
}
