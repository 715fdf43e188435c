import { describeInvocationFailure } from "../../server/hooks/errors.js";
import type { HookRunResult, KvFate } from "../../server/hooks/result.js";
import { renderTable } from "./table.js";

/**
 * The end of a hook run as the CLI prints it: on a TTY the table of every allocation (the live
 * view only showed batches); on a pipe, where a line per allocation was already printed as it
 * ended, just the totals. Both end with what happened to the run's KV writes.
 */
export function renderSummary(result: HookRunResult, options: { perAllocation: boolean }): string {
  const last = `run ${result.runId}: ${result.status} (${counts(result)}); ${kvFateText(result.kv)}; logs in ${result.logsDir}`;
  if (!options.perAllocation) return last;
  const table = renderTable(result.invocations, [
    { field: "workerIp", title: "ALLOCATION" },
    { field: "job", title: "JOB" },
    { field: "hook", title: "HOOK" },
    { field: "batchIndex", title: "BATCH", format: (_v, r) => `${r.batchIndex + 1}/${r.batchCount}` },
    {
      field: "status",
      title: "STATUS",
      format: (_v, r) => (r.status === "failed" || r.status === "timeout" ? `${r.status} (${describeInvocationFailure(r)})` : r.status),
      // Why it failed is the point of the summary: never cut.
      maxWidth: Number.POSITIVE_INFINITY,
    },
    { field: "durationMs", title: "DURATION", format: (_v, r) => (r.status === "skipped" ? "-" : seconds(r.durationMs)) },
  ]);
  return `${table}\n${last}`;
}

export const seconds = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

function counts(result: HookRunResult): string {
  const by = new Map<string, number>();
  for (const i of result.invocations) by.set(i.status, (by.get(i.status) ?? 0) + 1);
  const label = (s: string) => (s === "skipped" ? "not run" : s);
  return [...by].map(([s, n]) => `${n} ${label(s)}`).join(", ") || "no invocations";
}

/** "12 writes committed", "12 writes of 3 allocations discarded: the run failed". */
export function kvFateText(kv: KvFate | undefined): string {
  if (!kv || kv.writes === 0) return "no KV writes";
  const writes = `${kv.writes} KV write${kv.writes === 1 ? "" : "s"}`;
  if (kv.committed) return `${writes} committed`;
  return `${writes} of ${kv.allocations} allocation${kv.allocations === 1 ? "" : "s"} discarded: ${kv.reason ?? "not committed"}`;
}

/** `--json`: snake_case, indexes 0-based and named *_index. */
export function summaryJson(result: HookRunResult) {
  return {
    run_id: result.runId,
    status: result.status,
    logs: result.logsDir,
    kv: result.kv ? { writes: result.kv.writes, allocations: result.kv.allocations, committed: result.kv.committed, ...(result.kv.reason ? { reason: result.kv.reason } : {}) } : { writes: 0, allocations: 0, committed: false },
    invocations: result.invocations.map((i) => ({
      job: i.job,
      hook: i.hook,
      event: i.event,
      worker_ip: i.workerIp,
      alloc_id: i.allocId,
      batch_index: i.batchIndex,
      batch_count: i.batchCount,
      status: i.status,
      exit_code: i.exitCode,
      signal: i.signal,
      duration_ms: i.durationMs,
      ...(i.error ? { error: i.error } : {}),
      ...(i.status === "failed" || i.status === "timeout" ? { tail: i.tail } : {}),
    })),
  };
}
