import type { BucketContext } from "../bucket/context.js";
import type { InterpreterResolver } from "../hooks/interpreters.js";
import type { HookSession } from "../hooks/session.js";
import type { InterruptTrap } from "../hooks/interrupt.js";
import { bucketSecretsRedactor } from "../hooks/redaction.js";
import type { StepRecord } from "../rollout/events.js";
import { newSealCache } from "../store/sync-seals.js";
import { syncWorkers } from "../workers/sync.js";
import type { WorkerPool } from "../workers/pool.js";
import { DEFAULT_TARGET_TIMEOUT_SEC, type ApplyOptions } from "./apply.js";
import { deployJob } from "./job-pipeline.js";
import type { JobRun, LazySession } from "./job-run.js";
import { healthGate } from "../health/gate.js";
import type { DeployPlan, DeployPlanInput } from "./plan-types.js";
import { NO_TRANSPORT, type DeployResult, type JobResult, type Transport } from "./result.js";
import type { RenderStep } from "./stage.js";
import { workerLayout } from "./worker-layout.js";

/** What applyDeploy hands the waves: the run it opened. */
export interface WavesRun {
  ctx: BucketContext;
  plan: DeployPlan;
  input: DeployPlanInput;
  options: ApplyOptions;
  runId: string;
  updateSeq: number;
  resolver: InterpreterResolver;
  render: RenderStep;
  record: (r: StepRecord) => void;
  /** Ctrl-C and the like (applyDeploy installs it before the worker check starts). */
  trap: InterruptTrap;
  pool: WorkerPool;
  /** The worker check of every plan worker, started by applyDeploy: nothing runs before it passed. */
  checked: Promise<void>;
}

export interface WavesOutcome {
  jobs: JobResult[];
  warnings: string[];
  interrupted: boolean;
  transport: DeployResult["transport"];
}

/**
 * The waves of a plan with work: once every worker it will contact passed its check
 * (worker-check.ts, started by applyDeploy; nothing changes when one fails), waves in order
 * and the jobs of a wave one after another (each job's KV checkpoints must hold only that
 * job's writes). A failed job does not stop the other jobs of its wave; a wave with a failed
 * job stops the later waves.
 */
export async function applyWaves(w: WavesRun): Promise<WavesOutcome> {
  const { ctx, plan, input, runId, updateSeq, resolver, render, record, pool, options: o } = w;
  const jobs: JobResult[] = [];
  const warnings: string[] = [];
  let interrupted = false;
  let transport: Transport = NO_TRANSPORT;
  // Secrets (and what pre_deploy writes, through the session) masked in what workers print.
  const redactor = bucketSecretsRedactor(ctx.db, ctx.kv, plan.waves.flatMap((w) => w.jobs.filter((j) => j.needs_work).map((j) => j.job)));
  const signal = w.trap.signal;
  let session: HookSession | undefined;
  let opening: Promise<HookSession> | undefined;
  const hooks: LazySession = {
    get: () =>
      (opening ??= import("../hooks/session.js").then(async ({ openHookSession }) => (session = await openHookSession(ctx, { redactor })))),
    current: () => session,
  };
  try {
    await w.checked;
    o.reporter?.checked?.(plan.workers);
    const inputs = new Map(input.jobs.map((j) => [j.job, j]));
    const touched = new Map<string, string>();
    const seals = newSealCache();
    const gate = o.gate ?? healthGate(ctx);
    let stopped = false;
    for (const wave of plan.waves) {
      if (!stopped) o.reporter?.waveStart?.(wave);
      for (const job of wave.jobs) {
        if (stopped || signal.aborted) {
          jobs.push({ job: job.job, wave_index: wave.wave_index, status: job.needs_work ? "not_run" : "skipped", error: null, promoted: [], kv_checkpoints: 0, replanned: false });
          continue;
        }
        const run: JobRun = {
          ctx,
          hooks,
          pool,
          signal,
          runId,
          command: "deploy",
          waveIndex: wave.wave_index,
          updateSeq,
          bucketId: plan.bucket_id,
          force: plan.request.force,
          syncOnly: plan.request.sync_only,
          healthGate: plan.request.health_gate,
          verbose: o.verbose ?? false,
          reporter: o.reporter,
          record,
          render,
          gate,
          redact: (text) => redactor.redact(text),
          resolver,
          targetTimeoutSec: o.targetTimeoutSec ?? DEFAULT_TARGET_TIMEOUT_SEC,
          ...(o.hookExecute ? { hookExecute: o.hookExecute } : {}),
          touched,
          seals,
        };
        const jr = await deployJob(run, job, inputs.get(job.job)!);
        jobs.push(jr);
        o.reporter?.jobEnd?.(jr);
        if (jr.status === "interrupted") interrupted = true;
      }
      // Later waves depend on this one (hook demands): they start only after it succeeded.
      if (jobs.some((j) => j.wave_index === wave.wave_index && (j.status === "failed" || j.status === "interrupted"))) stopped = true;
    }
    if (signal.aborted) interrupted = true;
    else warnings.push(...(await refreshLayouts(ctx, pool, plan.bucket_id, touched, updateSeq)));
    const stats = pool.stats();
    transport = { connections_opened: stats.connectionsOpened, connections_reused: stats.connectionsReused, peak_connections: stats.peakConnections };
  } finally {
    // Whatever no checkpoint committed is dropped; the API stops after the last hook process.
    if (opening) {
      const s = await opening.catch(() => undefined);
      s?.kv.rollback();
      await s?.close();
    }
  }
  return { jobs, warnings, interrupted, transport };
}

/**
 * jobs.json on the workers this deploy synced, with the versions as promoted now (it was
 * written with the sync, before the promote): only where it now differs from what the sync
 * wrote, so a deploy that changed no version costs no extra round-trip. Best effort: the deploy
 * already succeeded or failed on its own terms; a worker that cannot be reached here is a warning.
 */
async function refreshLayouts(ctx: BucketContext, pool: WorkerPool, bucketId: string, written: ReadonlyMap<string, string>, updateSeq: number): Promise<string[]> {
  const reqs = [...written].flatMap(([host, before]) => {
    const layout = workerLayout(ctx.db, bucketId, host, updateSeq);
    return layout && JSON.stringify(layout) !== before ? [{ host, bucketId, layout }] : [];
  });
  const out = await syncWorkers(pool, reqs);
  return out.filter((r) => r.error).map((r) => `${r.host}: jobs.json not refreshed after the promote (${r.error!.message}); the next deploy to it rewrites it`);
}
