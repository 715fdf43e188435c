import type { SealCache } from "../store/sync-seals.js";
import type { BucketContext } from "../bucket/context.js";
import type { InterpreterResolver } from "../hooks/interpreters.js";
import type { HookSession, RunOptions } from "../hooks/session.js";
import type { StepRecord } from "../rollout/events.js";
import type { WorkerPool } from "../workers/pool.js";
import type { DeployReporter } from "./reporter.js";
import type { RenderStep } from "./stage.js";
import type { LifecyclePhase } from "./plan-types.js";

/** The lifecycle batch a gate is asked about, after it succeeded and its after_allocation_* hooks ran. */
export interface GateBatch {
  job: string;
  phase: LifecyclePhase;
  batch_index: number;
  batch_count: number;
  workers: string[];
  signal: AbortSignal;
}

/**
 * Called after every lifecycle batch the plan gates (isGatedBatch in plan.ts), before the next
 * batch starts. A non-empty string stops the job's rollout with that reason (the job fails,
 * later batches do not run). The run is passed so a gate records its own steps (events.jsonl)
 * and reads the session's KV (pre_deploy may have written a port key). Deploy's gate is the
 * health gate (server/health/gate.ts); ApplyOptions.gate replaces it.
 */
export type DeployGate = (batch: GateBatch, run: JobRun) => Promise<string | undefined>;

/** What running remote steps (sync, targets, removals) needs: deploy's and `maand job`'s. */
export interface StepRun {
  ctx: BucketContext;
  pool: WorkerPool;
  signal: AbortSignal;
  runId: string;
  /** "deploy" or "job_control": the command field of the step records. */
  command: string;
  waveIndex: number | null;
  updateSeq: number;
  bucketId: string;
  verbose: boolean;
  reporter?: DeployReporter;
  /** Adds a step record to the result and events.jsonl (and tells the reporter). */
  record(r: StepRecord): void;
  /** Make targets get this long (runner.py kills the target's group after it). */
  targetTimeoutSec: number;
  /** Workers synced by this run, with the layout (JSON) last written to each: refreshed at the end where it changed. */
  touched: Map<string, string>;
  /** Keep the output tail of successful targets too (`maand job status` shows it). */
  keepTail?: boolean;
  /** The run's sync seal lists, each serialized and parsed once (deploy; a sync without it works alone). */
  seals?: SealCache;
  /** Masks known secret values in what workers print (make output, tails, errors). */
  redact(text: string): string;
}

/**
 * The deploy's hook session (KV layer, runtime API), opened when the first hook runs: a deploy
 * of jobs without hooks never starts the API nor loads its modules.
 */
export interface LazySession {
  get(): Promise<HookSession>;
  /** The session if one was opened (its KV holds the writes to checkpoint or roll back). */
  current(): HookSession | undefined;
}

/** Everything one job's deploy needs, passed explicitly (no module state). */
export interface JobRun extends StepRun {
  hooks: LazySession;
  waveIndex: number;
  force: boolean;
  syncOnly: boolean;
  /** The plan's request.health_gate: apply replans each job with the same request. */
  healthGate: boolean;
  render: RenderStep;
  gate: DeployGate;
  resolver: InterpreterResolver;
  /** Test and benchmark overrides of the hook executor. */
  hookExecute?: RunOptions["execute"];
}
