import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { LineReader } from "./line-reader.js";
import { parseLogLine, RUN_ID_PATTERN, type LogRecord } from "./record.js";

/**
 * Where run logs live (server/hooks/run-logs.ts): logs/runs/<run_id>/<job>.<hook>.<ip>.log, one
 * file per invocation, and logs/<ip>.log with every line of every run on that worker (rotated
 * by gc to <ip>.log.1).
 */
export const runsDir = (logsDir: string): string => join(logsDir, "runs");
export const workerLog = (logsDir: string, ip: string): string => join(logsDir, `${ip}.log`);
export const ROTATED_SUFFIX = ".1";

/**
 * Run ids under logs/runs/, oldest first. A run id holds its start time to the second and then
 * random digits, so runs started within one second (a build and its post_build pass, scripted
 * `maand hooks` calls) are ordered by their first logged line, which has milliseconds.
 */
export function listRuns(logsDir: string): string[] {
  const dir = runsDir(logsDir);
  if (!existsSync(dir)) return [];
  const ids = readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && RUN_ID_PATTERN.test(e.name))
    .map((e) => e.name);
  const second = (id: string) => id.slice(0, id.indexOf("-"));
  const firstTs = new Map<string, string>();
  const started = (id: string): string => {
    let ts = firstTs.get(id);
    if (ts === undefined) firstTs.set(id, (ts = firstLoggedAt(logsDir, id)));
    return ts;
  };
  return ids.sort((a, b) => {
    const sa = second(a);
    const sb = second(b);
    if (sa !== sb) return sa < sb ? -1 : 1;
    const ta = started(a);
    const tb = started(b);
    return ta !== tb ? (ta < tb ? -1 : 1) : a < b ? -1 : a > b ? 1 : 0;
  });
}

/** The earliest first line's timestamp among a run's invocation logs ("" when it has none). */
function firstLoggedAt(logsDir: string, runId: string): string {
  let first = "";
  for (const f of runFiles(logsDir, runId)) {
    const ts = new RecordReader(f).next()?.ts;
    if (ts !== undefined && (first === "" || ts < first)) first = ts;
  }
  return first;
}

/** The invocation logs of one run, in name order. */
export function runFiles(logsDir: string, runId: string): string[] {
  const dir = join(runsDir(logsDir), runId);
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith(".log"))
    .map((e) => join(dir, e.name))
    .sort();
}

/** A worker's log files, the rotated one first: together they are in write order. */
export function workerLogFiles(logsDir: string, ip: string): string[] {
  const current = workerLog(logsDir, ip);
  return [`${current}${ROTATED_SUFFIX}`, current].filter((f) => existsSync(f) && statSync(f).isFile());
}

/** Parsed records of a file; lines in neither format are counted, not returned. */
export class RecordReader {
  private readonly lines: LineReader;
  skipped = 0;

  constructor(readonly file: string) {
    this.lines = new LineReader(file);
  }

  next(): LogRecord | undefined {
    for (;;) {
      const line = this.lines.next();
      if (line === undefined) return undefined;
      if (line === "") continue;
      const r = parseLogLine(line);
      if (r) return r;
      this.skipped++;
    }
  }
}
