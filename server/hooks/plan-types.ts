import type { HookEvent } from "../workspace/model.js";

/** Rollout phase of deploy's lifecycle hooks; every other run's DEPLOY_PHASE is its event name. */
export type DeployPhase = "new" | "update" | "stop";
export type WidthSource = "max_concurrent_upgrades" | "max_concurrent_starts" | "concurrency";
export type RolloutOrderSource = "kv" | "default";

/** A stored rollout_order the run did not use, and why (SPEC §7.2: it must be exactly the worker set). */
export interface RolloutOrderIgnored {
  /** The stored list as parsed (trimmed, empty entries dropped, repeats kept). */
  stored: string[];
  /** Why it was not used, e.g. "lists 2 of 3 workers, missing 10.0.0.3". */
  reason: string;
}

/**
 * Which job_control worker set applies: deploy's (every allocated worker, disabled included)
 * or `maand job` control's (active workers matching --allocations).
 */
export type JobControlMode = "deploy" | "control";

/** What a caller asks to run. Plain data: `maand hooks`, build, deploy and health_check fill it. */
export interface HookRunRequest {
  event: HookEvent;
  /** (job, hook) pairs in execution order. */
  targets: Array<{ job: string; hook: string }>;
  /** --allocations: worker IPs to keep (cli, job control). Every one must be in some target's set. */
  allocations?: string[];
  /** after_allocation_started/stopped: the exact workers per job, given by deploy. */
  workers?: Record<string, string[]>;
  jobControl?: JobControlMode;
  phase?: DeployPhase;
  /** Default max_concurrent_upgrades; max_concurrent_starts for first-start hooks. */
  widthSource?: Exclude<WidthSource, "concurrency">;
  /** The operator's batch width for this run (`--concurrency`), instead of the manifest's. */
  width?: number;
  /** Deploy job_control extras, per job. */
  newAllocations?: Record<string, string[]>;
  updatedAllocations?: Record<string, string[]>;
  /** Job control: start, stop, restart, reload or a Makefile target. */
  target?: string;
}

export interface PlanJob {
  name: string;
  version: string;
  maxConcurrentUpgrades: number;
  maxConcurrentStarts: number;
  deploymentSeq: number;
}

export interface PlanAllocation {
  allocId: string;
  job: string;
  workerIp: string;
  disabled: boolean;
  removed: boolean;
  /** Catalog order (worker position). */
  position: number;
  currentVersion: string;
}

export interface PlanHook {
  job: string;
  hook: string;
  event: string;
  /** Relative to the job root, e.g. "_hooks/hook_migrate.py". */
  script: string;
  timeoutSeconds: number;
  /**
   * The executable that will run the script, resolved when the input was read (see
   * interpreters.ts), or what stops it from running (missing interpreter, script not built):
   * --dry-run shows the one and fails on the other exactly as a real run would.
   */
  interpreter: { path: string } | { problems: string[] };
}

/** Everything planning needs, read from the catalog and KV beforehand: planning itself reads nothing. */
export interface HookPlanInput {
  request: HookRunRequest;
  bucketRoot: string;
  jobs: PlanJob[];
  /** Allocations of the requested jobs, removed ones included. */
  allocations: PlanAllocation[];
  hooks: PlanHook[];
  /** KV maand/job/<job> rollout_order per job, as stored. */
  rolloutOrders: Record<string, string | undefined>;
}

export interface HookInvocationPlan {
  allocId: string;
  workerIp: string;
  allocationIndex: number;
  disabled: boolean;
  batchIndex: number;
  oneShot: boolean;
  /** The full environment except HOOK_API_PORT and HOOK_API_TOKEN (see RUNTIME_ENV). */
  env: Record<string, string>;
}

export interface HookBatchPlan {
  index: number;
  workers: string[];
  invocations: HookInvocationPlan[];
}

export interface HookStepPlan {
  job: string;
  hook: string;
  event: HookEvent;
  script: string;
  /** The executable that runs the script (a venv's python3, python3 or bun, resolved). */
  interpreter: string;
  timeoutSeconds: number;
  rolloutOrder: string[];
  rolloutOrderSource: RolloutOrderSource;
  /** Set only when KV holds an operator's rollout_order that this step could not use. */
  rolloutOrderIgnored?: RolloutOrderIgnored;
  widthSource: WidthSource;
  width: number;
  batches: HookBatchPlan[];
}

/** One run: its steps execute one after another, each as a sequence of batches. */
export interface HookRunPlan {
  event: HookEvent;
  deployPhase: string;
  bucketRoot: string;
  steps: HookStepPlan[];
}

export const invocationCount = (plan: HookRunPlan): number =>
  plan.steps.reduce((n, s) => n + s.batches.reduce((m, b) => m + b.invocations.length, 0), 0);
