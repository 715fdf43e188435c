import { NS, ROLLOUT_ORDER_KEY } from "../kv/namespaces.js";
import { runBatches } from "../rollout/run-batches.js";
import type { StepRecord } from "../rollout/events.js";
import { promote, recordStep, saveDeployedSnapshot } from "../store/deploy-state.js";
import type { JobRun } from "./job-run.js";
import { runLifecycle } from "./lifecycle.js";
import { planJob, withApplyFacts } from "./plan.js";
import type { JobInput, JobPlan } from "./plan-types.js";
import { eventHooks } from "./event-hooks.js";
import { skippedStep, syncStep, type StepBase } from "./remote-steps.js";
import type { JobResult } from "./result.js";
import { jobSyncFiles, stageAllocation, type StagedAllocation } from "./stage.js";
import type { SyncFile } from "../workers/sync-plan.js";
import { TemplateRenderFailed } from "./template-errors.js";
import { hasTemplates } from "./template-files.js";

/**
 * One job of a wave (issue 11 point 5): pre_deploy hooks (KV checkpoint) -> stage -> sync ->
 * lifecycle -> post_deploy hooks -> promote (current_version := new_version, content hash
 * recorded, KV checkpoint), in that order, stopping at the first failure. Whatever a failed
 * job's hooks wrote since its last checkpoint is rolled back; what it did on workers is kept as
 * facts (deployments), so the next deploy redoes only what is missing.
 */
export async function deployJob(run: JobRun, planned: JobPlan, input: JobInput): Promise<JobResult> {
  const result: JobResult = { job: planned.job, wave_index: run.waveIndex, status: "skipped", error: null, promoted: [], kv_checkpoints: 0, replanned: false };
  if (!planned.needs_work) return result;
  run.reporter?.jobStart?.(planned);
  const stage = (s: string) => run.reporter?.jobStage?.(planned.job, s);
  const fail = (status: "failed" | "interrupted", error: string | null): JobResult => {
    run.hooks.current()?.kv.rollback();
    return { ...result, status, error };
  };
  const interrupted = () => run.signal.aborted;

  stage("pre_deploy");
  const pre = await eventHooks(run, planned, input, "pre_deploy");
  if (pre !== "ok" || interrupted()) return fail(pre === "failed" ? "failed" : "interrupted", pre === "failed" ? "pre_deploy hooks failed" : null);
  run.hooks.current()?.kv.commit();
  result.kv_checkpoints++;

  stage("stage");
  // What templates and the rollout order read: the session's KV (pre_deploy's writes) once hooks ran.
  const kv = run.hooks.current()?.kv ?? run.ctx.kv;
  const staged = new Map<string, StagedAllocation>();
  if (!planned.removed_job) {
    try {
      const files = jobSyncFiles(run.ctx.db, planned.job);
      // pre_deploy may have changed what a template reads: every allocation of a templated job
      // is rendered again, also those planned as skip.
      const templated = hasTemplates(files);
      const hashes = new WeakMap<readonly SyncFile[], string>();
      for (const a of planned.allocations) {
        if (a.removed || (!a.sync && !a.promote && !templated)) continue;
        staged.set(a.alloc_id, stageAllocation({ kv, render: run.render, hashes }, planned.job, a, files));
      }
    } catch (err) {
      return fail("failed", err instanceof TemplateRenderFailed ? err.message : `staging failed: ${(err as Error).message}`);
    }
  }
  // pre_deploy may have reordered the rollout, and rendering decides the real content hash:
  // the job is planned again from those facts, by the same planner.
  const rolloutOrder = kv.get(NS.job(planned.job), ROLLOUT_ORDER_KEY);
  const plan = planJob(withApplyFacts(input, { rolloutOrder, hashes: new Map([...staged].map(([id, s]) => [id, s.hash])) }), { force: run.force, sync_only: run.syncOnly, health_gate: run.healthGate });
  result.replanned = JSON.stringify(plan) !== JSON.stringify(planned);
  if (run.syncOnly) {
    const starts = plan.allocations.filter((a) => a.action === "start").map((a) => a.worker_ip);
    if (starts.length) return fail("failed", `--sync-only: ${starts.join(", ")} still need a start`);
  }

  stage("sync");
  const toSync = plan.allocations.filter((a) => a.sync);
  const syncBase = (a: (typeof toSync)[number]): StepBase => ({ job: plan.job, alloc_id: a.alloc_id, worker: a.worker_ip, step: "sync", name: "sync", phase: null, batch_index: 0, batch_count: 1 });
  const synced = await runBatches<(typeof toSync)[number], StepRecord>([toSync], {
    signal: run.signal,
    runOne: (a) => syncStep(run, syncBase(a), staged.get(a.alloc_id)!.files, staged.get(a.alloc_id)!.hash),
    skipped: (a) => skippedStep(run, syncBase(a)),
    failed: (r) => r.status !== "ok",
    interrupted: (r) => r.status === "interrupted",
  });
  if (synced.status !== "ok") return fail(synced.status === "interrupted" || interrupted() ? "interrupted" : "failed", null);

  if (!run.syncOnly) {
    stage("lifecycle");
    const life = await runLifecycle(run, plan, input, staged);
    if (life.status !== "ok") return fail(life.status, life.error);
  }

  stage("post_deploy");
  const post = await eventHooks(run, plan, input, "post_deploy");
  if (post !== "ok" || interrupted()) return fail(post === "failed" ? "failed" : "interrupted", post === "failed" ? "post_deploy hooks failed" : null);

  stage("promote");
  const now = run.ctx.clock.now();
  const rows = plan.allocations
    .filter((a) => !a.removed && (a.promote || a.sync))
    .map((a) => ({ alloc_id: a.alloc_id, worker_ip: a.worker_ip, hash: staged.get(a.alloc_id)?.hash ?? a.new_hash, version: plan.version }));
  // One transaction: the promoted state, the job's deployed snapshot and the session's KV writes
  // are committed together or (kill -9) not at all.
  run.ctx.db.transaction(() => {
    promote(run.ctx.db, rows, now);
    for (const r of rows) recordStep(run.ctx.db, { alloc_id: r.alloc_id, job: plan.job, worker_ip: r.worker_ip }, {}, { run_id: run.runId, at: now, result: "ok", step: "promote", error: "" });
    if (!plan.removed_job) saveDeployedSnapshot(run.ctx.db, plan.job, now);
    run.hooks.current()?.kv.commit();
  })();
  result.kv_checkpoints++;
  return { ...result, status: "ok", promoted: rows.map((r) => r.worker_ip) };
}
