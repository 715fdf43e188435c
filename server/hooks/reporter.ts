import type { OutputStream } from "./hook-process.js";
import type { HookBatchPlan, HookInvocationPlan, HookRunPlan, HookStepPlan } from "./plan-types.js";
import type { HookRunResult, InvocationResult } from "./result.js";

/**
 * What the executor tells its caller while it runs; the CLI turns it into progress lines, a
 * live listr2 view or verbose output. Every method is optional and must not throw.
 */
export interface HookReporter {
  runStart?(plan: HookRunPlan, runId: string): void;
  batchStart?(step: HookStepPlan, batch: HookBatchPlan): void;
  invocationStart?(step: HookStepPlan, invocation: HookInvocationPlan): void;
  /** Redacted, sanitised lines as they arrive. */
  output?(step: HookStepPlan, invocation: HookInvocationPlan, stream: OutputStream, lines: readonly string[]): void;
  /** Something the operator should fix that does not fail the run (one line, no secret in it). */
  warning?(text: string): void;
  invocationEnd?(step: HookStepPlan, result: InvocationResult): void;
  batchEnd?(step: HookStepPlan, batch: HookBatchPlan, results: readonly InvocationResult[]): void;
  runEnd?(result: HookRunResult): void;
}
