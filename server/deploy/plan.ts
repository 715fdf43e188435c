import { HookPreflightError } from "../hooks/errors.js";
import { resolveRolloutOrder } from "../kv/rollout-order.js";
import { decide, needsPromotion } from "./decide.js";
import { SyncOnlyRefused } from "./errors.js";
import type {
  ActionCounts,
  AllocationInput,
  AllocationPlan,
  BatchItem,
  DeployPlan,
  DeployPlanInput,
  DeployRequest,
  JobInput,
  JobPlan,
  LifecyclePhase,
  LifecycleBatch,
  WavePlan,
  WidthSource,
} from "./plan-types.js";

/** The hook events deploy runs, in the order they run for a job. */
export const DEPLOY_EVENTS = ["pre_deploy", "job_control", "after_allocation_started", "after_allocation_stopped", "post_deploy"] as const;

/**
 * Plans a deploy: per deployment_seq wave, per job, one action per allocation with its reason,
 * and the lifecycle batches. Pure: reads only its input, so `--dry-run` prints exactly what
 * apply starts from and tests assert on plans without SSH. Apply calls planJob again for a job
 * after its pre_deploy hooks (which may reorder the rollout) and staging (which computes the
 * rendered content hash), through the same code.
 */
export function planDeploy(input: DeployPlanInput): DeployPlan {
  const request = input.request;
  const jobs = input.jobs.map((j) => planJob(j, request));
  const refused = jobs.flatMap((j) => j.allocations.filter((a) => request.sync_only && a.action === "start").map((a) => ({ job: j.job, worker: a.worker_ip, reason: a.reason })));
  if (refused.length) throw new SyncOnlyRefused(refused);
  const problems = input.jobs
    .filter((_j, i) => jobs[i]!.needs_work)
    .flatMap((j) => j.hooks.flatMap((h) => ("problems" in h.interpreter ? h.interpreter.problems.map((p) => `job ${j.job}, ${h.hook} (${h.event}): ${p}`) : [])));
  if (problems.length) throw new HookPreflightError([...new Set(problems)]);

  const seqs = [...new Set(jobs.map((j) => j.deployment_seq))].sort((a, b) => a - b);
  const waves: WavePlan[] = seqs.map((seq, wave_index) => ({ wave_index, deployment_seq: seq, jobs: jobs.filter((j) => j.deployment_seq === seq) }));
  const counts: ActionCounts = { start: 0, restart: 0, reload: 0, sync: 0, stop: 0, skip: 0 };
  const workers: string[] = [];
  for (const j of jobs) {
    for (const a of j.allocations) {
      counts[a.action]++;
      if (j.needs_work && a.action !== "skip" && !workers.includes(a.worker_ip)) workers.push(a.worker_ip);
    }
  }
  return {
    bucket_id: input.bucket_id,
    request: { jobs: request.jobs?.length ? [...request.jobs] : null, force: request.force ?? false, sync_only: request.sync_only ?? false, health_gate: request.health_gate ?? true },
    waves,
    counts,
    workers,
  };
}

export function planJob(job: JobInput, request: DeployRequest): JobPlan {
  const opts = { version: job.version, restartPolicy: job.restart_policy, force: request.force ?? false, syncOnly: request.sync_only ?? false };
  const allocations: AllocationPlan[] = job.allocations.map((a) => {
    const d = decide(a, opts);
    return {
      alloc_id: a.alloc_id,
      worker_ip: a.worker_ip,
      action: d.action,
      reason: d.reason,
      disabled: a.disabled,
      removed: a.removed,
      current_version: a.current_version,
      new_version: a.removed ? a.current_version : job.version,
      current_hash: a.current_hash,
      new_hash: a.new_hash,
      target: d.target,
      sync: d.action === "start" || d.action === "restart" || d.action === "reload" || d.action === "sync",
      promote: needsPromotion(a, job.version),
    };
  });
  const active = job.allocations.filter((a) => !a.removed && !a.disabled).map((a) => a.worker_ip);
  const { order, source } = resolveRolloutOrder(active, job.rollout_order);
  const hooks: Record<string, string[]> = {};
  for (const e of DEPLOY_EVENTS) {
    const names = [...new Set(job.hooks.filter((h) => h.event === e).map((h) => h.hook))];
    if (names.length) hooks[e] = names;
  }
  const lifecycle = !job.removed_job && hooks.job_control ? "job_control" : "makefile";
  const inOrder = (pred: (a: AllocationPlan) => boolean) => order.map((ip) => allocations.find((a) => a.worker_ip === ip)!).filter(pred);
  const starts = inOrder((a) => a.action === "start");
  const updates = inOrder((a) => a.action === "restart" || a.action === "reload");
  // Stops are of allocations outside the rollout order's worker set (disabled, removed): catalog order.
  const stops = allocations.filter((a) => a.action === "stop");
  const batches: LifecycleBatch[] = [];
  if (lifecycle === "makefile") {
    batches.push(...split("new", starts, "max_concurrent_starts", job.max_concurrent_starts > 0 ? job.max_concurrent_starts : Math.max(1, starts.length)));
    batches.push(...split("update", updates, "max_concurrent_upgrades", Math.max(1, job.max_concurrent_upgrades)));
  }
  batches.push(...split("stop", stops, "max_concurrent_upgrades", Math.max(1, job.max_concurrent_upgrades)));
  // A job_control hook starts and updates its allocations in one go: the gate follows the hook.
  const startsOrUpdates = batches.some((b) => b.phase !== "stop") || (lifecycle === "job_control" && starts.length + updates.length > 0);
  const gated = (request.health_gate ?? true) && job.health_checks.length > 0 && startsOrUpdates;
  return {
    job: job.job,
    version: job.version,
    deployment_seq: job.deployment_seq,
    restart_policy: job.restart_policy,
    removed_job: job.removed_job,
    lifecycle,
    hooks,
    rollout_order: order,
    rollout_order_source: source,
    needs_work: allocations.some((a) => a.action !== "skip" || a.promote),
    allocations,
    batches,
    health_gate: gated ? [...job.health_checks] : null,
    new_allocations: lifecycle === "job_control" ? starts.map((a) => a.worker_ip) : [],
    updated_allocations: lifecycle === "job_control" ? updates.map((a) => a.worker_ip) : [],
    ...(job.template_errors?.length ? { template_errors: job.template_errors } : {}),
  };
}

/**
 * Whether apply asks the deploy gate about this batch: start and update batches of a job whose
 * plan has a health gate. Stops are not gated: a stopped allocation has nothing to probe.
 */
export function isGatedBatch(job: Pick<JobPlan, "health_gate">, batch: Pick<LifecycleBatch, "phase">): boolean {
  return job.health_gate !== null && batch.phase !== "stop";
}

function split(phase: LifecyclePhase, allocs: readonly AllocationPlan[], width_source: WidthSource, width: number): LifecycleBatch[] {
  const items: BatchItem[] = allocs.map((a) => ({ alloc_id: a.alloc_id, worker_ip: a.worker_ip, target: a.target! }));
  const out: LifecycleBatch[] = [];
  for (let i = 0; i < items.length; i += width) out.push({ phase, batch_index: out.length, batch_count: 0, width, width_source, items: items.slice(i, i + width) });
  for (const b of out) b.batch_count = out.length;
  return out;
}

/** A job input with what apply learned after planning: the session's rollout_order and the staged content hashes. */
export function withApplyFacts(job: JobInput, facts: { rolloutOrder: string | undefined; hashes: ReadonlyMap<string, string> }): JobInput {
  const allocations: AllocationInput[] = job.allocations.map((a) => (facts.hashes.has(a.alloc_id) ? { ...a, new_hash: facts.hashes.get(a.alloc_id)! } : a));
  const out: JobInput = { ...job, rollout_order: facts.rolloutOrder, allocations };
  // Staging rendered every template (or the job failed): what planning could not render is moot.
  delete out.template_errors;
  return out;
}
