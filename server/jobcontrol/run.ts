import type { BucketContext } from "../bucket/context.js";
import { EXIT, MaandError } from "../errors.js";
import { planHookRun } from "../hooks/plan.js";
import { loadHookPlanInput, type PlanSource } from "../hooks/plan-input.js";
import { trapInterrupt } from "../hooks/interrupt.js";
import { newRunId } from "../hooks/run-logs.js";
import { bucketSecretsRedactor } from "../hooks/redaction.js";
import { NS, ROLLOUT_ORDER_KEY } from "../kv/namespaces.js";
import { inPlanOrder, openStepRecorder, type StepRecord } from "../rollout/events.js";
import { runBatches } from "../rollout/run-batches.js";
import { bucketId, getJob, listAllocations, listHooks } from "../store/catalog.js";
import { readDeployStates, recordStep } from "../store/deploy-state.js";
import { DEFAULT_TARGET_TIMEOUT_SEC } from "../deploy/apply.js";
import { checkPlanWorkers } from "../deploy/worker-check.js";
import type { StepRun } from "../deploy/job-run.js";
import { skippedStep, targetStep, type StepBase } from "../deploy/remote-steps.js";
import type { DeployReporter } from "../deploy/reporter.js";
import { CONTROL_VERBS, planJobControl, type JobControlInput, type JobControlPlan, type JobControlRequest } from "./plan.js";

export interface JobControlResult {
  run_id: string;
  job: string;
  target: string;
  status: "ok" | "failed" | "interrupted";
  duration_ms: number;
  steps: StepRecord[];
  events_file: string;
}

/** Reads what planJobControl needs from the catalog, deploy state and KV. */
export function loadJobControlInput(source: PlanSource, request: JobControlRequest): JobControlInput {
  const { db, kv } = source;
  const job = getJob(db, request.job);
  const states = readDeployStates(db, [request.job]);
  return {
    request,
    bucket_id: bucketId(db),
    job: job && {
      name: job.name,
      version: job.version,
      max_concurrent_upgrades: job.max_concurrent_upgrades,
      job_control_hooks: [...new Set(listHooks(db, { job: job.name, event: "job_control" }).map((h) => h.hook))],
    },
    allocations: listAllocations(db, { jobs: [request.job], includeRemoved: true }).map((a) => {
      const s = states.get(a.alloc_id);
      return {
        alloc_id: a.alloc_id,
        worker_ip: a.worker_ip,
        disabled: a.disabled !== 0,
        removed: a.removed !== 0,
        position: a.position,
        deployed: !!s && (s.synced_hash !== "" || s.current_hash !== ""),
        current_version: a.current_version,
      };
    }),
    rollout_order: kv.get(NS.job(request.job), ROLLOUT_ORDER_KEY),
  };
}

/** What a verb leaves true on the worker once it succeeded (deploy reads it: a stopped allocation is started again). */
function stateAfter(target: string): { running: number } | {} {
  if (target === "start" || target === "restart" || target === "reload") return { running: 1 };
  if (target === "stop") return { running: 0 };
  return {};
}

export interface JobControlOptions {
  reporter?: DeployReporter;
  verbose?: boolean;
  signal?: AbortSignal;
  /** status: record nothing in the catalog (it only asks). */
  readOnly?: boolean;
  targetTimeoutSec?: number;
}

/**
 * Applies a job control plan: the workers are checked (one round-trip each), then the target
 * runs batch by batch (a failed batch stops the later ones), or the job's job_control hooks run
 * with TARGET set in one hook session whose KV writes are committed when every invocation
 * succeeded. Every step is a line of events.jsonl.
 */
export async function runJobControl(ctx: BucketContext, plan: JobControlPlan, o: JobControlOptions = {}): Promise<JobControlResult> {
  const t0 = ctx.clock.now();
  const runId = newRunId(t0);
  const events = openStepRecorder(ctx.paths.logs, runId, (r) => o.reporter?.stepEnd?.(r));
  const { steps } = events;
  const record = (r: StepRecord) => events.record(r);
  const trap = trapInterrupt(o.signal);
  let status: JobControlResult["status"] = "ok";
  try {
    const workers = plan.batches.flatMap((b) => b.items.map((i) => i.worker_ip));
    if (plan.mode === "job_control") status = await viaHooks(ctx, plan, workers, runId, record, trap.signal, o);
    else {
      const pool = await ctx.workers();
      const redactor = bucketSecretsRedactor(ctx.db, ctx.kv, [plan.job]);
      await checkPlanWorkers(ctx, pool, workers, trap.signal);
      o.reporter?.checked?.(workers);
      const run: StepRun = {
        ctx,
        pool,
        signal: trap.signal,
        runId,
        command: "job_control",
        waveIndex: null,
        updateSeq: 0,
        bucketId: bucketId(ctx.db),
        verbose: o.verbose ?? false,
        reporter: o.reporter,
        record,
        targetTimeoutSec: o.targetTimeoutSec ?? DEFAULT_TARGET_TIMEOUT_SEC,
        touched: new Map(),
        keepTail: o.readOnly ?? false,
        redact: (text) => redactor.redact(text),
      };
      const base = (b: JobControlPlan["batches"][number], i: { alloc_id: string; worker_ip: string }): StepBase => ({
        job: plan.job,
        alloc_id: i.alloc_id,
        worker: i.worker_ip,
        step: "target",
        name: plan.target,
        phase: null,
        batch_index: b.batch_index,
        batch_count: b.batch_count,
      });
      const r = await runBatches(
        plan.batches.map((b) => b.items.map((i) => ({ b, i }))),
        {
          signal: trap.signal,
          onBatchStart: (index) => {
            const b = plan.batches[index]!;
            o.reporter?.batchStart?.(plan.job, { phase: null, batch_index: b.batch_index, batch_count: b.batch_count, items: b.items.map((i) => ({ worker_ip: i.worker_ip, target: plan.target })) });
          },
          runOne: ({ b, i }) => targetStep(run, base(b, i), { current: i.current_version, next: i.new_version }, o.readOnly ? null : stateAfter(plan.target)),
          skipped: ({ b, i }) => skippedStep(run, base(b, i)),
          failed: (x) => x.status !== "ok",
          interrupted: (x) => x.status === "interrupted",
        },
      );
      status = r.status === "interrupted" || trap.signal.aborted ? "interrupted" : r.status;
    }
  } finally {
    trap.dispose();
    events.close();
  }
  return { run_id: runId, job: plan.job, target: plan.target, status, duration_ms: ctx.clock.now() - t0, steps, events_file: events.file };
}

async function viaHooks(
  ctx: BucketContext,
  plan: JobControlPlan,
  workers: string[],
  runId: string,
  record: (r: StepRecord) => void,
  signal: AbortSignal,
  o: JobControlOptions,
): Promise<JobControlResult["status"]> {
  const { withHookSession } = await import("../hooks/run.js");
  return withHookSession(
    ctx,
    async (session, sig) => {
      const hookPlan = planHookRun(
        loadHookPlanInput({ db: ctx.db, kv: session.kv, paths: ctx.paths }, {
          event: "job_control",
          targets: plan.hooks.map((hook) => ({ job: plan.job, hook })),
          jobControl: "control",
          target: plan.target,
          allocations: workers,
        }),
      );
      const result = await session.run(hookPlan, {
        signal: sig,
        runId,
        events: { sink: record, command: "job_control" },
        reporter: {
          invocationStart: (step, inv) => o.reporter?.stepStart?.({ job: step.job, worker: inv.workerIp, step: "hook", name: step.hook, phase: null }),
          output: o.verbose ? (step, inv, _s, lines) => o.reporter?.output?.({ job: step.job, worker: inv.workerIp, step: "hook", name: step.hook }, lines) : undefined,
        },
      });
      if (result.status !== "ok" || sig.aborted) return result.status === "failed" ? "failed" : "interrupted";
      if (!o.readOnly) {
        ctx.db.transaction(() => {
          const after = stateAfter(plan.target);
          for (const b of plan.batches) for (const i of b.items) recordStep(ctx.db, { alloc_id: i.alloc_id, job: plan.job, worker_ip: i.worker_ip }, after, null);
          session.kv.commit();
        })();
      }
      return "ok";
    },
    { signal },
  );
}

/** A job control run in which a step failed: every failed allocation with its step, exit code and last lines. */
export class JobControlFailed extends MaandError {
  constructor(readonly result: JobControlResult) {
    const failed = inPlanOrder(result.steps.filter((s) => s.status === "failed" || s.status === "timeout"));
    super(
      [
        `${commandLine(result)} failed on ${failed.length} allocation${failed.length === 1 ? "" : "s"} (run ${result.run_id}):`,
        ...failed.flatMap((s) => [`  ${s.worker} (${s.step} ${s.name}${s.exit_code !== null ? `, exit code ${s.exit_code}` : ""}): ${s.error ?? s.status}`, ...s.tail.map((t) => `    | ${t}`)]),
      ].join("\n"),
      failed.some((s) => s.unreachable) ? EXIT.unreachable : EXIT.stepFailed,
    );
  }

  override jsonDetail(): unknown {
    return { run_id: this.result.run_id, failed: this.result.steps.filter((s) => s.status === "failed" || s.status === "timeout") };
  }
}

export class JobControlInterrupted extends MaandError {
  constructor(readonly result: JobControlResult) {
    super(`interrupted: stopped ${commandLine(result)} (run ${result.run_id})`, EXIT.interrupted);
  }
}

/** How the operator typed it: `maand job stop api`, `maand job run api --target migrate`. */
export function commandLine(r: { job: string; target: string }): string {
  return (CONTROL_VERBS as readonly string[]).includes(r.target) || r.target === "status" ? `maand job ${r.target} ${r.job}` : `maand job run ${r.job} --target ${r.target}`;
}

export function planJobControlFor(source: PlanSource, request: JobControlRequest): JobControlPlan {
  return planJobControl(loadJobControlInput(source, request));
}
