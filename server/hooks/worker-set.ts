import { MaandError } from "../errors.js";
import type { HookRunRequest, PlanAllocation, PlanJob, RolloutOrderIgnored, RolloutOrderSource, WidthSource } from "./plan-types.js";

/** Events whose worker set deploy passes in explicitly (SPEC §7.1). */
const GIVEN_WORKER_EVENTS = new Set(["after_allocation_started", "after_allocation_stopped"]);

/**
 * The allocations an event runs on for one job, in catalog order, before any --allocations
 * filter (SPEC §7.1). `allocations` are the job's allocations, removed ones included.
 */
export function eventWorkerSet(request: HookRunRequest, job: string, allocations: readonly PlanAllocation[]): PlanAllocation[] {
  const inCatalogOrder = [...allocations].sort(byCatalogOrder);
  if (GIVEN_WORKER_EVENTS.has(request.event)) {
    const given = request.workers?.[job];
    if (!given) throw new MaandError(`${request.event} hooks of job ${job} need the list of workers they run for`);
    const byIp = new Map(inCatalogOrder.map((a) => [a.workerIp, a]));
    const unknown = given.filter((ip) => !byIp.has(ip));
    if (unknown.length) throw new MaandError(`${unknown.join(", ")}: not an allocation of job ${job}`);
    const wanted = new Set(given);
    // A removed allocation is still a legitimate target of after_allocation_stopped.
    return inCatalogOrder.filter((a) => wanted.has(a.workerIp));
  }
  if (request.event === "job_control" && request.jobControl === "control") {
    return inCatalogOrder.filter((a) => !a.removed && !a.disabled);
  }
  return inCatalogOrder.filter((a) => !a.removed);
}

export function byCatalogOrder(a: PlanAllocation, b: PlanAllocation): number {
  return a.position - b.position || (a.workerIp < b.workerIp ? -1 : a.workerIp > b.workerIp ? 1 : 0);
}

/**
 * The stored rollout_order applies only when it names exactly the current worker set (no
 * missing, extra or repeated worker): a list left over from before a worker was added or
 * removed would otherwise drop or invent allocations. When a stored list is not used, `ignored`
 * says why, so the operator can see what to fix.
 */
export function resolveRolloutOrder(
  workers: readonly string[],
  stored: string | undefined,
): { order: string[]; source: RolloutOrderSource; ignored?: RolloutOrderIgnored } {
  if (stored === undefined) return { order: [...workers], source: "default" };
  const listed = stored.split(",").map((s) => s.trim()).filter((s) => s.length > 0);
  const reason = rolloutOrderMismatch(workers, listed);
  if (reason === undefined) return { order: listed, source: "kv" };
  return { order: [...workers], source: "default", ignored: { stored: listed, reason } };
}

/** At most this many addresses are named in a reason; a 200-worker job must not flood the console. */
const NAMED = 5;

function rolloutOrderMismatch(workers: readonly string[], listed: readonly string[]): string | undefined {
  if (!listed.length) return workers.length ? "is empty" : undefined;
  const current = new Set(workers);
  const seen = new Set<string>();
  const repeated = new Set<string>();
  for (const ip of listed) (seen.has(ip) ? repeated : seen).add(ip);
  const missing = workers.filter((ip) => !seen.has(ip));
  const foreign = [...seen].filter((ip) => !current.has(ip));
  const reasons: string[] = [];
  if (missing.length) reasons.push(`lists ${workers.length - missing.length} of ${workers.length} workers, missing ${named(missing)}`);
  if (foreign.length) reasons.push(`names workers not in this run's worker set: ${named(foreign)}`);
  if (repeated.size) reasons.push(`repeats ${named([...repeated])}`);
  return reasons.length ? reasons.join("; ") : undefined;
}

function named(ips: readonly string[]): string {
  const shown = ips.slice(0, NAMED).join(", ");
  return ips.length > NAMED ? `${shown} and ${ips.length - NAMED} more` : shown;
}

/** Batch width (SPEC §7.2): upgrades at least 1; starts 0 (or less) = one batch of everything. */
export function batchWidth(job: PlanJob, source: WidthSource, workerCount: number): number {
  if (source === "max_concurrent_starts") {
    return job.maxConcurrentStarts > 0 ? job.maxConcurrentStarts : Math.max(1, workerCount);
  }
  return Math.max(1, job.maxConcurrentUpgrades);
}

export function splitBatches<T>(items: readonly T[], width: number): T[][] {
  const batches: T[][] = [];
  for (let i = 0; i < items.length; i += width) batches.push(items.slice(i, i + width));
  return batches;
}
