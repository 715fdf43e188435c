import { existsSync, readdirSync, renameSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { runStartedAt } from "./record.js";
import { listRuns, ROTATED_SUFFIX, runsDir } from "./sources.js";

/**
 * A worker log (logs/<ip>.log) larger than this is renamed to <ip>.log.1 by gc, replacing the
 * previous .1, so a worker's logs take at most about twice this between two gc runs plus what
 * those runs add. 32 MiB holds many ordinary runs and four invocations that hit the per-invocation
 * log cap (MAX_LOG_BYTES_PER_INVOCATION, 8 MiB); runs stay readable in full in logs/runs/.
 */
export const WORKER_LOG_ROTATE_BYTES = 32 * 1024 * 1024;
const DAY_MS = 86400_000;

/** What gc will do to logs/: plain data, so it can be shown and tested before anything goes. */
export interface LogGcPlan {
  /** logs/runs/<run_id> that started before the cutoff. */
  runs: string[];
  /** logs/<ip>.log files over WORKER_LOG_ROTATE_BYTES, renamed to <ip>.log.1. */
  rotate: Array<{ file: string; bytes: number }>;
  /** logs/<ip>.log.1 last written before the cutoff (and not about to be replaced). */
  expired: string[];
}

export interface LogGcResult extends LogGcPlan {
  /** Bytes of the run directories and rotated logs deleted. */
  bytesFreed: number;
}

/**
 * Runs are aged by the start time in their id, not by mtime (a copied or touched directory keeps
 * its age); only directories named like run ids are touched, anything else in logs/runs/ is the
 * operator's. File names are relative to logs/.
 */
export function planLogGc(logsDir: string, now: number, retainDays: number, rotateBytes = WORKER_LOG_ROTATE_BYTES): LogGcPlan {
  const cutoff = now - retainDays * DAY_MS;
  const runs = listRuns(logsDir).filter((id) => (runStartedAt(id) ?? Number.POSITIVE_INFINITY) < cutoff);
  const rotate: LogGcPlan["rotate"] = [];
  const expired: string[] = [];
  if (existsSync(logsDir)) {
    for (const e of readdirSync(logsDir, { withFileTypes: true })) {
      if (!e.isFile()) continue;
      const st = statSync(join(logsDir, e.name));
      if (e.name.endsWith(".log") && st.size > rotateBytes) rotate.push({ file: e.name, bytes: st.size });
      else if (e.name.endsWith(`.log${ROTATED_SUFFIX}`) && st.mtimeMs < cutoff) expired.push(e.name);
    }
  }
  const replaced = new Set(rotate.map((r) => `${r.file}${ROTATED_SUFFIX}`));
  return { runs, rotate: rotate.sort((a, b) => (a.file < b.file ? -1 : 1)), expired: expired.filter((f) => !replaced.has(f)).sort() };
}

export function applyLogGc(logsDir: string, plan: LogGcPlan): LogGcResult {
  let bytesFreed = 0;
  for (const id of plan.runs) {
    const dir = join(runsDir(logsDir), id);
    bytesFreed += treeBytes(dir);
    rmSync(dir, { recursive: true, force: true });
  }
  for (const f of plan.expired) {
    const file = join(logsDir, f);
    bytesFreed += statSync(file).size;
    rmSync(file, { force: true });
  }
  for (const r of plan.rotate) {
    const target = join(logsDir, `${r.file}${ROTATED_SUFFIX}`);
    if (existsSync(target)) bytesFreed += statSync(target).size;
    // rename replaces the old .1 atomically; the next hook run creates a fresh <ip>.log (0600).
    renameSync(join(logsDir, r.file), target);
  }
  return { ...plan, bytesFreed };
}

function treeBytes(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) n += treeBytes(p);
    else if (e.isFile()) n += statSync(p).size;
  }
  return n;
}
