import type { RestartPolicy } from "../workspace/model.js";
import type { TemplateProblem } from "./template-errors.js";

/**
 * A deploy plan and everything planning reads, as plain serialisable data. Keys are snake_case
 * because the plan IS the JSON `maand deploy --dry-run --json` prints (one shape everywhere, no
 * conversion layer to drift); indexes are 0-based and named `*_index`.
 */

/** What deploy does to one allocation (SPEC §10). `sync`: new files, no lifecycle target. */
export type DeployAction = "start" | "restart" | "reload" | "sync" | "stop" | "skip";

/**
 * Why. new: never started; stopped: active but not running (disabled before, or `maand job
 * stop`); content_changed / version_changed: differs from what was promoted; forced: --force;
 * applied: the lifecycle already ran for this content (an earlier deploy failed later), only
 * sync and promote remain; disabled / removed; promoted: nothing to do; sync_only: --sync-only
 * defers a stop to the next full deploy.
 */
export type DeployReason =
  | "new"
  | "stopped"
  | "content_changed"
  | "version_changed"
  | "forced"
  | "applied"
  | "disabled"
  | "removed"
  | "promoted"
  | "sync_only";

export type LifecyclePhase = "new" | "update" | "stop";
export type LifecycleTarget = "start" | "restart" | "reload" | "stop";
export type WidthSource = "max_concurrent_starts" | "max_concurrent_upgrades";

export interface DeployRequest {
  /** --jobs: only these jobs (and nothing of the others). */
  jobs?: string[];
  force?: boolean;
  sync_only?: boolean;
  /** false: --no-health-gate, no batch waits for the job's health checks. Default true. */
  health_gate?: boolean;
}

/** One allocation as planning sees it: catalog placement, deploy state, desired content. */
export interface AllocationInput {
  alloc_id: string;
  worker_ip: string;
  disabled: boolean;
  removed: boolean;
  /** Worker position (catalog order); removed workers sort last. */
  position: number;
  /** Promoted state. */
  current_hash: string;
  current_version: string;
  /** What deploy did on the worker since (deployments table). */
  running: boolean;
  synced_hash: string;
  applied_hash: string;
  applied_version: string;
  cleaned: boolean;
  /** Content hash of what would be synced (files + certs, see content.ts); "" for removed allocations. */
  new_hash: string;
}

export interface JobHookInput {
  hook: string;
  event: string;
  script: string;
  timeout_seconds: number;
  /** The resolved interpreter, or what stops the hook from running (the run fails before it starts). */
  interpreter: { path: string } | { problems: string[] };
}

export interface JobInput {
  job: string;
  version: string;
  deployment_seq: number;
  restart_policy: RestartPolicy;
  max_concurrent_upgrades: number;
  max_concurrent_starts: number;
  /** The job left the workspace: planned from its last deployed snapshot, stops only. */
  removed_job: boolean;
  hooks: JobHookInput[];
  /** Labels of the manifest's health checks ("tcp:8080", checkLabel in health/plan.ts); [] when none. */
  health_checks: string[];
  /** KV maand/job/<job> rollout_order as stored (pre_deploy may change it; apply replans). */
  rollout_order: string | undefined;
  /** Catalog order. */
  allocations: AllocationInput[];
  /** Allocations whose templates failed to render when planning (committed KV); absent when none. */
  template_errors?: TemplateProblem[];
}

export interface DeployPlanInput {
  request: DeployRequest;
  bucket_id: string;
  jobs: JobInput[];
}

export interface AllocationPlan {
  alloc_id: string;
  worker_ip: string;
  action: DeployAction;
  reason: DeployReason;
  disabled: boolean;
  removed: boolean;
  current_version: string;
  new_version: string;
  current_hash: string;
  new_hash: string;
  /** The Makefile target the lifecycle runs (null for sync and skip). */
  target: LifecycleTarget | null;
  /** Files go to the worker (start, restart, reload, sync). */
  sync: boolean;
  /** current := new once the job succeeded (every non-removed allocation whose state differs). */
  promote: boolean;
}

export interface BatchItem {
  alloc_id: string;
  worker_ip: string;
  target: LifecycleTarget;
}

export interface LifecycleBatch {
  phase: LifecyclePhase;
  /** Within its phase. */
  batch_index: number;
  batch_count: number;
  width: number;
  width_source: WidthSource;
  items: BatchItem[];
}

export interface JobPlan {
  job: string;
  version: string;
  deployment_seq: number;
  restart_policy: RestartPolicy;
  removed_job: boolean;
  /** makefile: start/restart/reload per allocation; job_control: the job's job_control hooks replace them (stops stay Makefile). */
  lifecycle: "makefile" | "job_control";
  /** Hook names per deploy event, in run order. */
  hooks: Record<string, string[]>;
  rollout_order: string[];
  rollout_order_source: "kv" | "default";
  /** False when every allocation is promoted and untouched: the job is skipped entirely (no hooks). */
  needs_work: boolean;
  allocations: AllocationPlan[];
  /** start batches, then update batches, then stop batches. */
  batches: LifecycleBatch[];
  /**
   * The health checks that must pass on a start/update batch's allocations (with the
   * manifest's wait) before the next batch starts; null when no batch is gated: --no-health-gate,
   * no checks, or no start/update batch (a job_control lifecycle has none).
   */
  health_gate: string[] | null;
  /** Deploy job_control extras (NEW_ALLOCATIONS / UPDATED_ALLOCATIONS), in rollout order. */
  new_allocations: string[];
  updated_allocations: string[];
  /**
   * Allocations whose templates failed to render with the committed KV; absent when none. A
   * deploy renders again after pre_deploy and fails the job (before syncing it) if they still do.
   */
  template_errors?: TemplateProblem[];
}

export interface WavePlan {
  wave_index: number;
  deployment_seq: number;
  jobs: JobPlan[];
}

export type ActionCounts = Record<DeployAction, number>;

export interface DeployPlan {
  bucket_id: string;
  request: { jobs: string[] | null; force: boolean; sync_only: boolean; health_gate: boolean };
  waves: WavePlan[];
  /** Allocations per action over the whole plan. */
  counts: ActionCounts;
  /** Workers the apply will contact (checked first, one round-trip each). */
  workers: string[];
}

export const isNoOp = (plan: DeployPlan): boolean => plan.waves.every((w) => w.jobs.every((j) => !j.needs_work));
