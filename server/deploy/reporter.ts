import type { StepRecord } from "../rollout/events.js";
import type { JobPlan, LifecycleBatch, WavePlan, DeployPlan } from "./plan-types.js";
import type { DeployResult, JobResult } from "./result.js";

/**
 * What apply tells its caller while it runs; the CLI draws live progress on a TTY, plain lines on
 * a pipe. Every method is optional and must not throw.
 */
export interface DeployReporter {
  runStart?(plan: DeployPlan, runId: string): void;
  /** Workers checked (one round-trip each) before anything changed. */
  checked?(hosts: readonly string[]): void;
  waveStart?(wave: WavePlan): void;
  jobStart?(job: JobPlan): void;
  /** A step of the job: pre_deploy, stage, sync, lifecycle, post_deploy, promote. */
  jobStage?(job: string, stage: string): void;
  /** A lifecycle batch (phase new/update/stop) or a `maand job` batch (phase null). */
  batchStart?(job: string, batch: Pick<LifecycleBatch, "batch_index" | "batch_count"> & { phase: string | null; items: Array<{ worker_ip: string; target: string }> }): void;
  stepStart?(record: Pick<StepRecord, "job" | "worker" | "step" | "name" | "phase">): void;
  stepEnd?(record: StepRecord): void;
  /** --verbose: output lines of a step as they come (hook lines, make output). */
  output?(record: Pick<StepRecord, "job" | "worker" | "step" | "name">, lines: readonly string[]): void;
  warning?(text: string): void;
  jobEnd?(result: JobResult): void;
  runEnd?(result: DeployResult): void;
}
