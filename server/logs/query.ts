import { UsageError } from "../errors.js";
import { escapeText } from "../text/escape.js";
import { HOOK_EVENTS } from "../workspace/model.js";
import { canonicalHost } from "../workspace/hosts.js";
import { isValidHost } from "../workspace/names.js";
import type { LogRecord } from "./record.js";
import { RUN_ID_EXAMPLE, RUN_ID_PATTERN } from "./record.js";

/** `maand logs show` flags, checked: every filter is an exact match. */
export interface LogQuery {
  run?: string;
  worker?: string;
  job?: string;
  hook?: string;
  event?: string;
  /** Only the last N matching lines. */
  tail?: number;
}

export interface LogFlags {
  run?: string;
  worker?: string;
  job?: string;
  hook?: string;
  event?: string;
  tail?: string;
}

const quoted = (s: string) => escapeText(JSON.stringify(s));

export function parseLogQuery(flags: LogFlags): LogQuery {
  const q: LogQuery = {};
  if (flags.run !== undefined) {
    // Also what keeps `--run ../../secrets` inside logs/runs/.
    if (!RUN_ID_PATTERN.test(flags.run)) throw new UsageError(`--run ${quoted(flags.run)}: expected a run id like ${RUN_ID_EXAMPLE} (the directory names in logs/runs/)`);
    q.run = flags.run;
  }
  if (flags.worker !== undefined) {
    if (!isValidHost(flags.worker)) throw new UsageError(`--worker ${quoted(flags.worker)}: expected a worker address (IPv4, IPv6 or DNS name) as in workspace/workers.json`);
    // Logs name IPv6 workers in their RFC 5952 form, as the catalog does.
    q.worker = canonicalHost(flags.worker);
  }
  for (const key of ["job", "hook"] as const) {
    const v = flags[key];
    if (v === undefined) continue;
    if (!/^\S+$/.test(v)) throw new UsageError(`--${key} ${quoted(v)}: expected a ${key} name`);
    q[key] = v;
  }
  if (flags.event !== undefined) {
    if (!(HOOK_EVENTS as readonly string[]).includes(flags.event)) throw new UsageError(`--event ${quoted(flags.event)}: expected one of ${HOOK_EVENTS.join(", ")}`);
    q.event = flags.event;
  }
  if (flags.tail !== undefined) {
    if (!/^\d+$/.test(flags.tail) || Number(flags.tail) < 1 || !Number.isSafeInteger(Number(flags.tail))) {
      throw new UsageError(`--tail ${quoted(flags.tail)}: expected a positive number of lines, e.g. --tail 50`);
    }
    q.tail = Number(flags.tail);
  }
  return q;
}

/** The filters other than the run, which picks the files. */
export function matches(q: LogQuery, r: LogRecord): boolean {
  return (q.worker === undefined || r.worker === q.worker) && (q.job === undefined || r.job === q.job) && (q.hook === undefined || r.hook === q.hook) && (q.event === undefined || r.event === q.event);
}

/** The filters as the operator typed them, for "nothing matched" messages. */
export function describeQuery(q: LogQuery): string {
  const parts = (["run", "worker", "job", "hook", "event"] as const).filter((k) => q[k] !== undefined).map((k) => `--${k} ${q[k]}`);
  return parts.length ? parts.join(" ") : "no filter";
}
