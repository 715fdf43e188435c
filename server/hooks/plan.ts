import { MaandError } from "../errors.js";
import { HookPreflightError } from "./errors.js";
import { HOOK_API_HOST, HOOK_ENV } from "./env-names.js";
import type {
  HookBatchPlan,
  HookPlanInput,
  HookRunPlan,
  HookRunRequest,
  HookStepPlan,
  PlanAllocation,
  PlanHook,
  PlanJob,
} from "./plan-types.js";
import { resolveRolloutOrder } from "../kv/rollout-order.js";
import { batchWidth, eventWorkerSet, livePeers, splitBatches } from "./worker-set.js";

/**
 * Plans a hook run: worker sets, rollout order, batches and the complete environment of every
 * invocation, as plain serialisable data. Pure: reads nothing but its input, so `--dry-run`
 * prints exactly what a real run executes and tests assert on plans without spawning anything.
 */
export function planHookRun(input: HookPlanInput): HookRunPlan {
  const { request } = input;
  const jobs = new Map(input.jobs.map((j) => [j.name, j]));
  const filter = request.allocations ? new Set(request.allocations) : undefined;
  const matched = new Set<string>();
  const steps: HookStepPlan[] = [];
  const problems: string[] = [];

  for (const target of request.targets) {
    const job = jobs.get(target.job);
    if (!job) throw new MaandError(`unknown job ${target.job}`);
    const hook = input.hooks.find((h) => h.job === target.job && h.hook === target.hook && h.event === request.event);
    if (!hook) throw new MaandError(`job ${target.job} has no hook ${target.hook} registered for ${request.event}`);
    const allocations = input.allocations.filter((a) => a.job === target.job);
    const base = eventWorkerSet(request, target.job, allocations);
    const { order, source, ignored } = resolveRolloutOrder(base.map((a) => a.workerIp), input.rolloutOrders[target.job]);
    const selected = filter ? order.filter((ip) => filter.has(ip)) : order;
    selected.forEach((ip) => matched.add(ip));
    // A missing interpreter or script fails the whole run before anything starts (SPEC §7.3).
    if (selected.length && "problems" in hook.interpreter) problems.push(...hook.interpreter.problems.map((p) => `job ${target.job}, ${target.hook}: ${p}`));
    steps.push(planStep(input, request, job, hook, allocations, selected, source, ignored));
  }
  if (problems.length) throw new HookPreflightError([...new Set(problems)]);

  const unmatched = [...(filter ?? [])].filter((ip) => !matched.has(ip));
  if (unmatched.length) {
    const where = request.targets.length === 1 ? `job ${request.targets[0]!.job}` : `any job running ${request.event} hooks here`;
    throw new MaandError(`--allocations ${unmatched.join(",")}: not ${request.jobControl === "control" ? "an active" : "an"} allocation of ${where}`);
  }
  return { event: request.event, deployPhase: deployPhase(request), bucketRoot: input.bucketRoot, steps };
}

function planStep(
  input: HookPlanInput,
  request: HookRunRequest,
  job: PlanJob,
  hook: PlanHook,
  allocations: readonly PlanAllocation[],
  order: string[],
  orderSource: HookStepPlan["rolloutOrderSource"],
  orderIgnored: HookStepPlan["rolloutOrderIgnored"],
): HookStepPlan {
  const manifestSource = request.widthSource ?? "max_concurrent_upgrades";
  const widthSource = request.width !== undefined ? "concurrency" : manifestSource;
  const width = request.width !== undefined ? Math.max(1, request.width) : batchWidth(job, manifestSource, order.length);
  const byIp = new Map(allocations.map((a) => [a.workerIp, a]));
  const peers = livePeers(allocations);
  const groups = splitBatches(order, width);

  const batches: HookBatchPlan[] = groups.map((workers, batchIndex) => ({
    index: batchIndex,
    workers,
    invocations: workers.map((ip, i) => {
      const alloc = byIp.get(ip)!;
      const oneShot = batchIndex === 0 && i === 0;
      // A removed allocation (after_allocation_stopped) has no index among its live peers.
      const allocationIndex = peers.indexOf(ip);
      const env: Record<string, string> = {
        [HOOK_ENV.allocationId]: alloc.allocId,
        [HOOK_ENV.allocationIp]: ip,
        [HOOK_ENV.allocationIndex]: String(allocationIndex),
        [HOOK_ENV.job]: job.name,
        [HOOK_ENV.event]: request.event,
        [HOOK_ENV.command]: hook.hook,
        [HOOK_ENV.hook]: hook.hook,
        [HOOK_ENV.disabled]: alloc.disabled ? "1" : "0",
        [HOOK_ENV.currentVersion]: alloc.currentVersion,
        [HOOK_ENV.newVersion]: job.version,
        [HOOK_ENV.apiHost]: HOOK_API_HOST,
        [HOOK_ENV.legacyApiHost]: HOOK_API_HOST,
        [HOOK_ENV.bucketRoot]: input.bucketRoot,
        [HOOK_ENV.batchAllocations]: workers.join(","),
        [HOOK_ENV.batchIndex]: String(batchIndex),
        [HOOK_ENV.batchCount]: String(groups.length),
        [HOOK_ENV.deployPhase]: deployPhase(request),
        [HOOK_ENV.rolloutOrder]: order.join(","),
        [HOOK_ENV.rolloutOrderSource]: orderSource,
        [HOOK_ENV.oneShot]: oneShot ? "1" : "0",
        ...eventExtras(request, job.name),
      };
      return { allocId: alloc.allocId, workerIp: ip, allocationIndex, disabled: alloc.disabled, batchIndex, oneShot, env };
    }),
  }));

  return {
    job: job.name,
    hook: hook.hook,
    event: request.event,
    script: hook.script,
    interpreter: "path" in hook.interpreter ? hook.interpreter.path : "",
    timeoutSeconds: hook.timeoutSeconds,
    rolloutOrder: order,
    rolloutOrderSource: orderSource,
    ...(orderIgnored ? { rolloutOrderIgnored: orderIgnored } : {}),
    widthSource,
    width,
    batches,
  };
}

export function deployPhase(request: HookRunRequest): string {
  return request.phase ?? request.event;
}

function eventExtras(request: HookRunRequest, job: string): Record<string, string> {
  if (request.event !== "job_control") return {};
  if (request.jobControl === "control") return { [HOOK_ENV.target]: request.target ?? "" };
  return {
    [HOOK_ENV.newAllocations]: (request.newAllocations?.[job] ?? []).join(","),
    [HOOK_ENV.updatedAllocations]: (request.updatedAllocations?.[job] ?? []).join(","),
  };
}
