/**
 * One line of a hook run log, as server/hooks/run-logs.ts writes it, in either format:
 *   text: `<ts> run=<id> job=<job> hook=<hook> event=<event> worker=<ip> stream=<stream> <line>`
 *   json: `{"ts", "run_id", "job", "hook", "event", "worker", "stream", "line"}`
 * A bucket may hold both (log_format changed between runs), so every line is read on its own.
 * test/logs/record.test.ts writes with the real writer and reads back, so the two cannot drift.
 */
export interface LogRecord {
  ts: string;
  run_id: string;
  job: string;
  hook: string;
  event: string;
  worker: string;
  /** stdout, stderr, or maand (maand's own lines: started, exit status, warnings). */
  stream: string;
  line: string;
}

/** Run ids as newRunId makes them: start time (UTC, seconds) and 6 random hex digits. */
export const RUN_ID_PATTERN = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z-[0-9a-f]{6}$/;
export const RUN_ID_EXAMPLE = "20250102T030405Z-a1b2c3";

/** When the run started (ms since epoch), or undefined for a name that is not a run id. */
export function runStartedAt(runId: string): number | undefined {
  const m = RUN_ID_PATTERN.exec(runId);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const t = Date.UTC(y, mo - 1, d, h, mi, s);
  return Number.isNaN(t) ? undefined : t;
}

// Field values never hold spaces (names, addresses, run ids); the output line may hold anything.
const TEXT_LINE = /^(\S+) run=(\S*) job=(\S*) hook=(\S*) event=(\S*) worker=(\S*) stream=(\S*)(?: (.*))?$/s;
const FIELDS = ["ts", "run_id", "job", "hook", "event", "worker", "stream", "line"] as const;

/** A log line in either format; undefined when it is neither (foreign or damaged). */
export function parseLogLine(text: string): LogRecord | undefined {
  if (text.startsWith("{")) return parseJsonLine(text);
  const m = TEXT_LINE.exec(text);
  if (!m) return undefined;
  const [, ts, run_id, job, hook, event, worker, stream, line] = m as unknown as string[];
  return { ts: ts!, run_id: run_id!, job: job!, hook: hook!, event: event!, worker: worker!, stream: stream!, line: line ?? "" };
}

function parseJsonLine(text: string): LogRecord | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof doc !== "object" || doc === null) return undefined;
  const o = doc as Record<string, unknown>;
  if (!FIELDS.every((f) => typeof o[f] === "string")) return undefined;
  return Object.fromEntries(FIELDS.map((f) => [f, o[f]])) as unknown as LogRecord;
}

/** The text format, whichever format the line was stored in. */
export function formatTextLine(r: LogRecord): string {
  return `${r.ts} run=${r.run_id} job=${r.job} hook=${r.hook} event=${r.event} worker=${r.worker} stream=${r.stream} ${r.line}`;
}

/** The JSON format: the same object log_format = "json" stores, fields in its order. */
export function formatJsonLine(r: LogRecord): string {
  return JSON.stringify(Object.fromEntries(FIELDS.map((f) => [f, r[f]])));
}
