import type { BucketContext } from "../bucket/context.js";
import { interpreterResolver, type InterpreterResolver } from "../hooks/interpreters.js";
import { newRunId } from "../hooks/run-logs.js";
import type { HookSession, RunOptions } from "../hooks/session.js";
import { trapInterrupt } from "../hooks/interrupt.js";
import { bucketSecretsRedactor } from "../hooks/redaction.js";
import { openStepRecorder, type StepRecord } from "../rollout/events.js";
import { listWorkers } from "../store/catalog.js";
import { nextUpdateSeq } from "../store/deploy-state.js";
import { checkWorkers } from "../workers/check.js";
import { syncWorkers } from "../workers/sync.js";
import type { WorkerPool } from "../workers/pool.js";
import { DeployCheckFailed } from "./errors.js";
import { deployJob } from "./job-pipeline.js";
import type { DeployGate, JobRun, LazySession } from "./job-run.js";
import { healthGate } from "../health/gate.js";
import { isNoOp, type DeployPlan, type DeployPlanInput } from "./plan-types.js";
import type { DeployReporter } from "./reporter.js";
import type { DeployResult, JobResult } from "./result.js";
import { deployRenderStep } from "./render-step.js";
import type { RenderStep } from "./stage.js";
import { workerLayout } from "./worker-layout.js";

/** A Makefile target that has not finished after this long is killed (its process group) and fails. */
export const DEFAULT_TARGET_TIMEOUT_SEC = 600;

export interface ApplyOptions {
  reporter?: DeployReporter;
  /** Aborting stops running hooks and remote commands (Ctrl-C is trapped as well). */
  signal?: AbortSignal;
  /** The render step (stage.ts); deployRenderStep by default. runDeploy passes the one planning used: templates are parsed once. */
  render?: RenderStep;
  /**
   * What start/update batches wait for (job-run.ts): by default the health gate, for the jobs
   * whose plan has one (request.health_gate false, --no-health-gate, plans none).
   */
  gate?: DeployGate;
  resolver?: InterpreterResolver;
  verbose?: boolean;
  targetTimeoutSec?: number;
  hookExecute?: RunOptions["execute"];
}

/**
 * Applies a deploy plan: checks every worker it will contact (one round-trip each, nothing
 * changes when one fails), then waves in order and the jobs of a wave one after another (each
 * job's KV checkpoints must hold only that job's writes). A failed job does not stop the other
 * jobs of its wave; a wave with a failed job stops the later waves. The result says per job
 * what was promoted and committed; every step is also a line of events.jsonl.
 */
export async function applyDeploy(ctx: BucketContext, plan: DeployPlan, input: DeployPlanInput, o: ApplyOptions = {}): Promise<DeployResult> {
  const t0 = ctx.clock.now();
  const runId = newRunId(t0);
  const events = openStepRecorder(ctx.paths.logs, runId, (r) => o.reporter?.stepEnd?.(r));
  const { steps } = events;
  const record = (r: StepRecord) => events.record(r);
  const jobs: JobResult[] = [];
  const warnings: string[] = [];
  let interrupted = false;
  let transport = { connections_opened: 0, peak_connections: 0 };
  const updateSeq = nextUpdateSeq(ctx.db);
  const resolver = o.resolver ?? interpreterResolver({ jobsDir: ctx.paths.jobs });
  const render = o.render ?? (await deployRenderStep(ctx.db));
  o.reporter?.runStart?.(plan, runId);
  try {
    if (!isNoOp(plan)) {
      // Ctrl-C, SIGTERM, a closed terminal: running hooks and remote commands are stopped.
      const trap = trapInterrupt(o.signal);
      // Secrets (and what pre_deploy writes, through the session) masked in what workers print.
      const redactor = bucketSecretsRedactor(ctx.db, ctx.kv, plan.waves.flatMap((w) => w.jobs.filter((j) => j.needs_work).map((j) => j.job)));
      const signal = trap.signal;
      let session: HookSession | undefined;
      let opening: Promise<HookSession> | undefined;
      const hooks: LazySession = {
        get: () =>
          (opening ??= import("../hooks/session.js").then(async ({ openHookSession }) => (session = await openHookSession(ctx, { redactor })))),
        current: () => session,
      };
      try {
        const pool = await ctx.workers();
        await checkPlanWorkers(ctx, pool, plan.workers, signal);
        o.reporter?.checked?.(plan.workers);
        const inputs = new Map(input.jobs.map((j) => [j.job, j]));
        const touched = new Map<string, string>();
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
        transport = { connections_opened: stats.connectionsOpened, peak_connections: stats.peakConnections };
      } finally {
        // Whatever no checkpoint committed is dropped; the API stops after the last hook process.
        if (opening) {
          const s = await opening.catch(() => undefined);
          s?.kv.rollback();
          await s?.close();
        }
        trap.dispose();
      }
    } else {
      for (const wave of plan.waves) for (const job of wave.jobs) jobs.push({ job: job.job, wave_index: wave.wave_index, status: "skipped", error: null, promoted: [], kv_checkpoints: 0, replanned: false });
    }
  } finally {
    events.close();
  }
  const t1 = ctx.clock.now();
  const result: DeployResult = {
    run_id: runId,
    status: interrupted ? "interrupted" : jobs.some((j) => j.status === "failed") ? "failed" : "ok",
    update_seq: updateSeq,
    started_at: new Date(t0).toISOString(),
    ended_at: new Date(t1).toISOString(),
    duration_ms: t1 - t0,
    jobs,
    steps,
    events_file: events.file,
    warnings,
    transport,
  };
  for (const w of warnings) o.reporter?.warning?.(w);
  o.reporter?.runEnd?.(result);
  return result;
}

export async function checkPlanWorkers(ctx: BucketContext, pool: WorkerPool, hosts: readonly string[], signal: AbortSignal): Promise<void> {
  if (!hosts.length) return;
  const checks = await checkWorkers(pool, hosts, { signal });
  const failed = checks.filter((c) => !c.ok);
  if (!failed.length) return;
  const inCatalog = new Set(listWorkers(ctx.db).map((w) => w.worker_ip));
  throw new DeployCheckFailed(
    failed.map((c) => ({ host: c.host, problems: c.problems, unreachable: c.unreachable !== undefined })),
    new Set(failed.map((c) => c.host).filter((h) => !inCatalog.has(h))),
  );
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
