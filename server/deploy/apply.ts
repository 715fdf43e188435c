import type { BucketContext } from "../bucket/context.js";
import { interpreterResolver, type InterpreterResolver } from "../hooks/interpreters.js";
import { trapInterrupt } from "../hooks/interrupt.js";
import { newRunId } from "../hooks/run-logs.js";
import type { RunOptions } from "../hooks/session.js";
import { openStepRecorder } from "../rollout/events.js";
import { nextUpdateSeq } from "../store/deploy-state.js";
import type { WavesOutcome } from "./apply-waves.js";
import type { DeployGate } from "./job-run.js";
import { isNoOp, type DeployPlan, type DeployPlanInput } from "./plan-types.js";
import type { DeployReporter } from "./reporter.js";
import { NO_TRANSPORT, type DeployResult } from "./result.js";
import { deployRenderStep } from "./render-step.js";
import { checkPlanWorkers } from "./worker-check.js";
import type { RenderStep } from "./stage.js";

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
  /**
   * Work that needs no worker (the CLI's stale-catalog check): started once the first
   * requests to the workers are out, run in slices while they answer, finished before the
   * result; right away for a plan without work.
   */
  whileConnecting?: () => Promise<unknown> | void;
  verbose?: boolean;
  targetTimeoutSec?: number;
  hookExecute?: RunOptions["execute"];
}

/**
 * Applies a deploy plan (apply-waves.ts does the work) and frames it as one run: its run id,
 * update_seq, events.jsonl and result. The result says per job what was promoted and
 * committed; every step is also a line of events.jsonl.
 */
export async function applyDeploy(ctx: BucketContext, plan: DeployPlan, input: DeployPlanInput, o: ApplyOptions = {}): Promise<DeployResult> {
  const t0 = ctx.clock.now();
  const runId = newRunId(t0);
  const events = openStepRecorder(ctx.paths.logs, runId, (r) => o.reporter?.stepEnd?.(r));
  const updateSeq = nextUpdateSeq(ctx.db);
  const resolver = o.resolver ?? interpreterResolver({ jobsDir: ctx.paths.jobs });
  const render = o.render ?? (await deployRenderStep(ctx.db));
  o.reporter?.runStart?.(plan, runId);
  let outcome: WavesOutcome;
  try {
    if (isNoOp(plan)) {
      await o.whileConnecting?.();
      const jobs = plan.waves.flatMap((wave) => wave.jobs.map((job) => ({ job: job.job, wave_index: wave.wave_index, status: "skipped" as const, error: null, promoted: [], kv_checkpoints: 0, replanned: false })));
      outcome = { jobs, warnings: [], interrupted: false, transport: NO_TRANSPORT };
    } else {
      // Ctrl-C, SIGTERM, a closed terminal: running hooks and remote commands are stopped.
      const trap = trapInterrupt(o.signal);
      try {
        // The modules of hooks, workers and ssh2 load only when there is work: a no-change
        // deploy stays a catalog read. ssh2 first: the handshakes and checks get under way while
        // the rest loads and the caller's own work runs.
        const pool = await ctx.workers();
        const checked = checkPlanWorkers(ctx, pool, plan.workers, trap.signal);
        checked.catch(() => {}); // awaited by applyWaves, which reports it
        const { applyWaves } = await import("./apply-waves.js");
        const sideWork = Promise.resolve(o.whileConnecting?.());
        sideWork.catch(() => {}); // awaited below, once the waves are done
        outcome = await applyWaves({ ctx, plan, input, options: o, runId, updateSeq, resolver, render, record: (r) => events.record(r), trap, pool, checked });
        await sideWork;
      } finally {
        trap.dispose();
      }
    }
  } finally {
    events.close();
  }
  const { jobs, warnings, interrupted } = outcome;
  const t1 = ctx.clock.now();
  const result: DeployResult = {
    run_id: runId,
    status: interrupted ? "interrupted" : jobs.some((j) => j.status === "failed") ? "failed" : "ok",
    update_seq: updateSeq,
    started_at: new Date(t0).toISOString(),
    ended_at: new Date(t1).toISOString(),
    duration_ms: t1 - t0,
    jobs,
    steps: events.steps,
    events_file: events.file,
    warnings,
    transport: outcome.transport,
  };
  for (const w of warnings) o.reporter?.warning?.(w);
  o.reporter?.runEnd?.(result);
  return result;
}
