import { HOOK_ENV } from "../hooks/env-names.js";
import { planHookRun } from "../hooks/plan.js";
import { loadHookPlanInput } from "../hooks/plan-input.js";
import type { HookRunPlan, HookRunRequest } from "../hooks/plan-types.js";
import type { HookReporter } from "../hooks/reporter.js";
import type { HookEvent } from "../workspace/model.js";
import type { JobInput, JobPlan, LifecycleBatch } from "./plan-types.js";
import { snapshotHookInput, snapshotStager } from "./snapshot-hooks.js";
import type { JobRun } from "./job-run.js";

export interface EventHookOptions {
  /** after_allocation_started/stopped: the batch they follow (its workers, index and count). */
  batch?: LifecycleBatch;
  /** The rollout order of the batch's phase (all its batches' workers). */
  phaseOrder?: string[];
}

/**
 * Runs the job's hooks registered for `event` inside the deploy's hook session (KV writes
 * visible at once, committed by the caller's checkpoints). Returns the run's status; each
 * invocation becomes a step record through the session's event target.
 */
export async function runEventHooks(run: JobRun, plan: JobPlan, input: JobInput, event: HookEvent, o: EventHookOptions = {}): Promise<"ok" | "failed" | "interrupted"> {
  const names = plan.hooks[event];
  if (!names?.length) return "ok";
  const batch = o.batch;
  const request: HookRunRequest = {
    event,
    targets: names.map((hook) => ({ job: plan.job, hook })),
    jobControl: "deploy",
    ...(batch ? { workers: { [plan.job]: batch.items.map((i) => i.worker_ip) }, phase: batch.phase, widthSource: batch.width_source } : {}),
    ...(event === "job_control" ? { newAllocations: { [plan.job]: plan.new_allocations }, updatedAllocations: { [plan.job]: plan.updated_allocations } } : {}),
  };
  const { ctx } = run;
  const session = await run.hooks.get();
  const source = { db: ctx.db, kv: session.kv, paths: ctx.paths };
  let hookPlan = planHookRun(plan.removed_job ? snapshotHookInput(ctx.db, ctx.paths, request, input) : loadHookPlanInput(source, request, { resolver: run.resolver }));
  if (batch) hookPlan = asLifecycleBatch(hookPlan, batch, o.phaseOrder ?? [], plan.rollout_order_source);
  const execute = plan.removed_job ? { ...run.hookExecute, stage: snapshotStager(ctx.db, ctx.paths, plan.job) } : run.hookExecute;
  const result = await session.run(hookPlan, {
    reporter: hookReporter(run),
    signal: run.signal,
    runId: run.runId,
    events: {
      sink: run.record,
      command: "deploy",
      waveIndex: run.waveIndex,
      phase: batch?.phase ?? null,
      ...(batch ? { batch: { index: batch.batch_index, count: batch.batch_count } } : {}),
    },
    ...(execute ? { execute } : {}),
  });
  return result.status;
}

/**
 * A hook run that follows one lifecycle batch is that batch, for the hooks: BATCH_INDEX and
 * BATCH_COUNT are the lifecycle batch's, ROLLOUT_ORDER the phase's whole order, and ONE_SHOT is
 * set only in the phase's first batch, so is_one_shot() holds for exactly one invocation per
 * phase. (The hook planner alone would number each batch's run 0 of 1.)
 */
export function asLifecycleBatch(plan: HookRunPlan, batch: LifecycleBatch, phaseOrder: readonly string[], source: "kv" | "default"): HookRunPlan {
  return {
    ...plan,
    steps: plan.steps.map((step) => {
      const { rolloutOrderIgnored: _ignored, ...rest } = step;
      let first = batch.batch_index === 0;
      return {
        ...rest,
        rolloutOrder: [...phaseOrder],
        rolloutOrderSource: source,
        batches: step.batches.map((b) => ({
          ...b,
          index: batch.batch_index,
          invocations: b.invocations.map((inv) => {
            const oneShot = first;
            first = false;
            return {
              ...inv,
              batchIndex: batch.batch_index,
              oneShot,
              env: {
                ...inv.env,
                [HOOK_ENV.batchIndex]: String(batch.batch_index),
                [HOOK_ENV.batchCount]: String(batch.batch_count),
                [HOOK_ENV.rolloutOrder]: phaseOrder.join(","),
                [HOOK_ENV.rolloutOrderSource]: source,
                [HOOK_ENV.oneShot]: oneShot ? "1" : "0",
              },
            };
          }),
        })),
      };
    }),
  };
}

function hookReporter(run: JobRun): HookReporter {
  const r = run.reporter;
  return {
    invocationStart: (step, inv) => r?.stepStart?.({ job: step.job, worker: inv.workerIp, step: "hook", name: step.hook, phase: null }),
    output: run.verbose ? (step, inv, _stream, lines) => r?.output?.({ job: step.job, worker: inv.workerIp, step: "hook", name: step.hook }, lines) : undefined,
    warning: (text) => r?.warning?.(text),
  };
}
