/** What applying a hook plan did, per invocation: a partial run is visible as such. */

export type InvocationStatus = "ok" | "failed" | "timeout" | "interrupted" | "skipped";

export interface InvocationResult {
  job: string;
  hook: string;
  event: string;
  allocId: string;
  workerIp: string;
  batchIndex: number;
  batchCount: number;
  status: InvocationStatus;
  exitCode: number | null;
  signal: string | null;
  durationMs: number;
  /** Last output lines (stdout and stderr interleaved, redacted), for failure reports. */
  tail: string[];
  /** Why it failed before or instead of exiting (staging error, spawn error, timeout). */
  error?: string;
}

export type RunStatus = "ok" | "failed" | "interrupted";

/** What happened to the run's KV writes (SPEC §8: they persist only at the owner's checkpoints). */
export interface KvFate {
  /** Keys written or deleted by the run's hooks. */
  writes: number;
  /** Allocations whose hooks wrote them. */
  allocations: number;
  committed: boolean;
  /** Why they were not committed. */
  reason?: string;
}

export interface HookRunResult {
  runId: string;
  status: RunStatus;
  /** logs/runs/<run_id> */
  logsDir: string;
  invocations: InvocationResult[];
  /** Set by the owner of the session once it committed or discarded the run's writes. */
  kv?: KvFate;
}

export const failedInvocations = (r: HookRunResult): InvocationResult[] =>
  r.invocations.filter((i) => i.status === "failed" || i.status === "timeout");
