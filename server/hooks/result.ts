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

export interface HookRunResult {
  runId: string;
  status: RunStatus;
  /** logs/runs/<run_id> */
  logsDir: string;
  invocations: InvocationResult[];
}

export const failedInvocations = (r: HookRunResult): InvocationResult[] =>
  r.invocations.filter((i) => i.status === "failed" || i.status === "timeout");
