import type { StepRecord } from "../rollout/events.js";

/**
 * What applying a deploy plan did, as data (`maand deploy --json` prints it beside the plan).
 * `steps` are the same records as events.jsonl; a job's `promoted` and `kv_committed` say what
 * was actually committed, so a partial deploy is visible as such.
 */
export type JobStatus = "ok" | "failed" | "interrupted" | "skipped" | "not_run";

export interface JobResult {
  job: string;
  wave_index: number;
  /** skipped: nothing to do; not_run: an earlier wave failed or Ctrl-C came first. */
  status: JobStatus;
  /** Why the job failed when no step record says it (staging, a gate). */
  error: string | null;
  /** Allocations whose current_version / current_hash this deploy promoted. */
  promoted: string[];
  /** KV checkpoints this job committed: after pre_deploy, and with the promote. */
  kv_checkpoints: number;
  /** The job's plan after pre_deploy and staging, when that changed it (rollout order, content hash). */
  replanned: boolean;
}

export type DeployStatus = "ok" | "failed" | "interrupted";

export interface DeployResult {
  run_id: string;
  status: DeployStatus;
  update_seq: number;
  started_at: string;
  ended_at: string;
  duration_ms: number;
  jobs: JobResult[];
  steps: StepRecord[];
  /** logs/runs/<run_id>/events.jsonl */
  events_file: string;
  /** Worker layout files (jobs.json) that could not be refreshed at the end; the deploy itself succeeded. */
  warnings: string[];
  /**
   * SSH connections this deploy opened, the workers it reached through a connection the holder
   * kept from an earlier command (ssh_persist), and the most in use at once (bounded by
   * ssh_max_workers); zeros when no worker was contacted.
   */
  transport: Transport;
}

export interface Transport {
  connections_opened: number;
  connections_reused: number;
  peak_connections: number;
}

export const NO_TRANSPORT: Transport = { connections_opened: 0, connections_reused: 0, peak_connections: 0 };
