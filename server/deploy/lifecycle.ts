import { runBatches } from "../rollout/run-batches.js";
import type { StepRecord } from "../rollout/events.js";
import type { JobInput, JobPlan, LifecycleBatch, BatchItem } from "./plan-types.js";
import { isGatedBatch } from "./plan.js";
import { eventHooks } from "./event-hooks.js";
import type { JobRun } from "./job-run.js";
import { removeStep, skippedStep, targetStep, type StepBase } from "./remote-steps.js";
import type { StagedAllocation } from "./stage.js";
import { recordStep } from "../store/deploy-state.js";

/** How a job's error starts when the gate stopped its rollout. */
export const GATE_FAILED = "health gate failed";

export type LifecycleOutcome = { status: "ok" } | { status: "failed" | "interrupted"; error: string | null };

/**
 * The job's lifecycle (issue 11 point 6): its batches in order (starts, then updates, then
 * stops), the allocations of a batch in parallel, each batch followed by its
 * after_allocation_started / after_allocation_stopped hooks, the removal of removed allocations
 * from their workers, and the gate (start/update batches of a plan with a health gate); a
 * failure anywhere stops the job's later batches. With a job_control hook, that hook replaces
 * the starts and updates (stops stay Makefile targets: the hook is told only NEW_ALLOCATIONS
 * and UPDATED_ALLOCATIONS).
 */
export async function runLifecycle(run: JobRun, plan: JobPlan, input: JobInput, staged: ReadonlyMap<string, StagedAllocation>): Promise<LifecycleOutcome> {
  if (plan.lifecycle === "job_control" && (plan.new_allocations.length || plan.updated_allocations.length)) {
    const status = await eventHooks(run, plan, input, "job_control");
    if (status !== "ok") return { status, error: status === "failed" ? "the job_control hook failed" : null };
    for (const a of plan.allocations) {
      if (a.action !== "start" && a.action !== "restart" && a.action !== "reload") continue;
      // The hook did the starts and restarts: the same facts a Makefile target would have left.
      recordStep(run.ctx.db, { alloc_id: a.alloc_id, job: plan.job, worker_ip: a.worker_ip }, { running: 1, applied_hash: staged.get(a.alloc_id)?.hash ?? a.new_hash, applied_version: plan.version }, {
        run_id: run.runId,
        at: run.ctx.clock.now(),
        result: "ok",
        step: "hook job_control",
        error: "",
      });
    }
    if (plan.health_gate !== null) {
      // The hook was the job's one start/update "batch": its new and updated allocations are gated together.
      const workers = [...plan.new_allocations, ...plan.updated_allocations];
      const phase = plan.new_allocations.length ? "new" : "update";
      if (run.signal.aborted) return { status: "interrupted", error: null };
      const reason = await run.gate({ job: plan.job, phase, batch_index: 0, batch_count: 1, workers, signal: run.signal }, run);
      if (run.signal.aborted) return { status: "interrupted", error: null };
      if (reason) return { status: "failed", error: `${GATE_FAILED} after the job_control hook: ${reason}` };
    }
  }
  if (!plan.batches.length) return { status: "ok" };
  const byAlloc = new Map(plan.allocations.map((a) => [a.alloc_id, a]));
  const phaseOrder = (b: LifecycleBatch) => plan.batches.filter((x) => x.phase === b.phase).flatMap((x) => x.items.map((i) => i.worker_ip));
  const base = (b: LifecycleBatch, i: BatchItem): StepBase => ({
    job: plan.job,
    alloc_id: i.alloc_id,
    worker: i.worker_ip,
    step: "target",
    name: i.target,
    phase: b.phase,
    batch_index: b.batch_index,
    batch_count: b.batch_count,
  });
  let afterFailure: string | null = null;
  const run1 = await runBatches<{ b: LifecycleBatch; i: BatchItem }, StepRecord>(
    plan.batches.map((b) => b.items.map((i) => ({ b, i }))),
    {
      signal: run.signal,
      runOne: ({ b, i }) => {
        const a = byAlloc.get(i.alloc_id)!;
        const onOk =
          i.target === "stop"
            ? { running: 0 }
            : { running: 1, applied_hash: staged.get(i.alloc_id)?.hash ?? a.new_hash, applied_version: plan.version };
        return targetStep(run, base(b, i), { current: a.current_version, next: a.new_version }, onOk);
      },
      skipped: ({ b, i }) => skippedStep(run, base(b, i)),
      failed: (r) => r.status !== "ok",
      interrupted: (r) => r.status === "interrupted",
      onBatchStart: (index) => run.reporter?.batchStart?.(plan.job, plan.batches[index]!),
      gate: async (index) => {
        const b = plan.batches[index]!;
        const event = b.phase === "stop" ? "after_allocation_stopped" : "after_allocation_started";
        // after_allocation_started follows Makefile batches only (the note: "workers in the current Makefile rollout batch").
        const status = await eventHooks(run, plan, input, event, { batch: b, phaseOrder: phaseOrder(b) });
        if (status !== "ok") {
          afterFailure = status === "failed" ? `${event} hooks failed after ${b.phase} batch ${b.batch_index + 1}/${b.batch_count}` : null;
          return afterFailure ?? "interrupted";
        }
        const removals = b.items.filter((i) => byAlloc.get(i.alloc_id)?.removed);
        const removed = await Promise.all(
          removals.map((i) => removeStep(run, { ...base(b, i), step: "remove", name: "remove" })),
        );
        if (removed.some((r) => r.status !== "ok")) return (afterFailure = `taking removed allocations off their workers failed after ${b.phase} batch ${b.batch_index + 1}/${b.batch_count}`);
        if (run.signal.aborted) return "interrupted";
        if (!isGatedBatch(plan, b)) return undefined;
        const reason = await run.gate({ job: plan.job, phase: b.phase, batch_index: b.batch_index, batch_count: b.batch_count, workers: b.items.map((i) => i.worker_ip), signal: run.signal }, run);
        if (reason) afterFailure = `${GATE_FAILED} after ${b.phase} batch ${b.batch_index + 1}/${b.batch_count}: ${reason}`;
        return reason;
      },
    },
  );
  if (run1.status === "ok") return { status: "ok" };
  if (run1.status === "interrupted" || run.signal.aborted) return { status: "interrupted", error: null };
  return { status: "failed", error: afterFailure };
}
