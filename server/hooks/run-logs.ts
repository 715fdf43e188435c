import { randomBytes } from "node:crypto";
import { closeSync, writeSync } from "node:fs";
import { join } from "node:path";
import type { OutputStream } from "./hook-process.js";
import { makeLogDir, openLogFile, secureLogsDir } from "./log-modes.js";

/** Bytes one invocation may add to each log; a hook dumping binary for an hour must not fill the disk. */
export const MAX_LOG_BYTES_PER_INVOCATION = 8 * 1024 * 1024;

export type LogStream = OutputStream | "maand";

export interface InvocationLogTarget {
  job: string;
  hook: string;
  event: string;
  workerIp: string;
}

export interface InvocationLog {
  write(stream: LogStream, lines: readonly string[]): void;
  close(): void;
}

export interface RunLogs {
  runId: string;
  /** logs/runs/<run_id> */
  dir: string;
  open(target: InvocationLogTarget): InvocationLog;
  close(): void;
}

/** What the console says when an invocation's output hits the log cap (its log says it too). */
export function logCapNotice(t: InvocationLogTarget): string {
  return `${t.workerIp} ${t.job} ${t.hook}: output beyond ${MAX_LOG_BYTES_PER_INVOCATION / 1024 / 1024} MiB is not logged (per-invocation log cap); the last lines are still shown on failure`;
}

/** Sortable and unique enough for one bucket: 20250102T030405Z-a1b2c3. */
export function newRunId(now: number): string {
  return `${new Date(now).toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z")}-${randomBytes(3).toString("hex")}`;
}

/**
 * SPEC §7.3 logs: every output line to logs/<worker_ip>.log and
 * logs/runs/<run_id>/<job>.<hook>.<ip>.log, stamped with time, run id, job, hook, event and
 * stream (text, or JSON lines with maand.conf log_format = "json"). Writes are synchronous per
 * output chunk: nothing accumulates in memory when a hook outruns the disk. Lines arrive
 * already redacted (see Redactor); logs/ is still 0700 and its files 0600 (see log-modes.ts).
 */
export function openRunLogs(deps: {
  logsDir: string;
  runId: string;
  format: "text" | "json";
  now(): number;
  /** Once per invocation, when its output first hits MAX_LOG_BYTES_PER_INVOCATION. */
  onCapped?(target: InvocationLogTarget): void;
}): RunLogs {
  secureLogsDir(deps.logsDir);
  const dir = join(deps.logsDir, "runs", deps.runId);
  makeLogDir(dir);
  const workerFds = new Map<string, number>();
  const workerFd = (ip: string): number => {
    let fd = workerFds.get(ip);
    if (fd === undefined) workerFds.set(ip, (fd = openLogFile(join(deps.logsDir, `${ip}.log`))));
    return fd;
  };

  return {
    runId: deps.runId,
    dir,
    open(t) {
      const runFd = openLogFile(join(dir, `${t.job}.${t.hook}.${t.workerIp}.log`));
      const shared = workerFd(t.workerIp);
      let written = 0;
      let capped = false;
      const format = (stream: LogStream, line: string): string => {
        const ts = new Date(deps.now()).toISOString();
        return deps.format === "json"
          ? `${JSON.stringify({ ts, run_id: deps.runId, job: t.job, hook: t.hook, event: t.event, worker: t.workerIp, stream, line })}\n`
          : `${ts} run=${deps.runId} job=${t.job} hook=${t.hook} event=${t.event} worker=${t.workerIp} stream=${stream} ${line}\n`;
      };
      return {
        write(stream, lines) {
          if (capped && stream !== "maand") return;
          let out = "";
          for (const line of lines) out += format(stream, line);
          // Bytes, not UTF-16 units: binary output decodes to U+FFFD, 3 bytes per unit on disk.
          let size = Buffer.byteLength(out);
          if (stream !== "maand" && written + size > MAX_LOG_BYTES_PER_INVOCATION) {
            capped = true;
            deps.onCapped?.(t);
            out = format("maand", `output beyond ${MAX_LOG_BYTES_PER_INVOCATION} bytes not logged (the last lines are still shown on failure)`);
            size = Buffer.byteLength(out);
          }
          written += size;
          writeSync(runFd, out);
          writeSync(shared, out);
        },
        close() {
          closeSync(runFd);
        },
      };
    },
    close() {
      for (const fd of workerFds.values()) closeSync(fd);
      workerFds.clear();
    },
  };
}
