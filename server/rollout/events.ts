import { closeSync, writeSync } from "node:fs";
import { join } from "node:path";
import { makeLogDir, openLogFile, secureLogsDir } from "../hooks/log-modes.js";

/**
 * What ran for one allocation: a hook, a sync, a Makefile target, a removal from the worker, or
 * one health check of deploy's gate after a start/update batch.
 */
export type StepKind = "hook" | "sync" | "target" | "remove" | "health";
export type StepStatus = "ok" | "failed" | "timeout" | "interrupted" | "skipped";

/**
 * One line of logs/runs/<run_id>/events.jsonl, and one entry of a deploy's or hook run's result:
 * the same object, so `maand deploy --json` and the file can never disagree. snake_case, 0-based
 * `*_index`, times as ISO strings (null for a step that never started).
 */
export interface StepRecord {
  run_id: string;
  /** deploy, job_control (maand job ...), hooks (maand hooks, post_build). */
  command: string;
  wave_index: number | null;
  job: string;
  worker: string;
  alloc_id: string;
  step: StepKind;
  /** Hook name, Makefile target, "sync", "remove", or a health check's label ("tcp:8080"). */
  name: string;
  /** Hook event (pre_deploy, ...); null for steps that are not hooks. */
  event: string | null;
  /** new / update / stop for lifecycle steps and their hooks; null otherwise. */
  phase: string | null;
  batch_index: number;
  batch_count: number;
  status: StepStatus;
  started_at: string | null;
  ended_at: string | null;
  duration_ms: number;
  exit_code: number | null;
  timed_out: boolean;
  /** The worker could not be reached (down, refused, host key): exit 4 rather than 3. */
  unreachable: boolean;
  error: string | null;
  /** Last output lines (failures only; redacted for hooks). */
  tail: string[];
}

export const EVENTS_FILE = "events.jsonl";

/** Records in plan order (wave, batch, worker) rather than completion order: for reports. */
export function inPlanOrder(records: readonly StepRecord[]): StepRecord[] {
  const key = (r: StepRecord) => [r.wave_index ?? -1, r.batch_index] as const;
  return [...records].sort((a, b) => {
    const [ka, kb] = [key(a), key(b)];
    return ka[0] - kb[0] || ka[1] - kb[1] || a.worker.localeCompare(b.worker, "en", { numeric: true });
  });
}

export interface EventLog {
  readonly file: string;
  write(record: StepRecord): void;
  close(): void;
}

/**
 * Appends step records to logs/runs/<run_id>/events.jsonl as they finish, one synchronous write
 * per line (a kill -9 loses at most the line being written; every earlier one is on disk).
 * Opened in append mode: a deploy's several hook runs share its run directory and file.
 */
export function openEventLog(logsDir: string, runId: string): EventLog {
  secureLogsDir(logsDir);
  const dir = join(logsDir, "runs", runId);
  makeLogDir(dir);
  const file = join(dir, EVENTS_FILE);
  let fd: number | undefined = openLogFile(file);
  return {
    file,
    write(record) {
      if (fd !== undefined) writeSync(fd, `${JSON.stringify(record)}\n`);
    },
    close() {
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
    },
  };
}

/** A run's step records: kept in order for its result, appended to events.jsonl, told to the reporter. */
export interface StepRecorder {
  readonly steps: StepRecord[];
  readonly file: string;
  record(r: StepRecord): void;
  close(): void;
}

export function openStepRecorder(logsDir: string, runId: string, onStep?: (r: StepRecord) => void): StepRecorder {
  const log = openEventLog(logsDir, runId);
  const steps: StepRecord[] = [];
  return {
    steps,
    file: log.file,
    record(r) {
      steps.push(r);
      log.write(r);
      onStep?.(r);
    },
    close: () => log.close(),
  };
}
