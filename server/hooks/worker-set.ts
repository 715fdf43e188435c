import { MaandError } from "../errors.js";
import type { HookRunRequest, PlanAllocation, PlanJob, WidthSource } from "./plan-types.js";

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

/**
 * The workers of a job's non-removed allocations in catalog order: an allocation's
 * ALLOCATION_INDEX (hooks) and .AllocationIndex (templates) is its worker's index here, as
 * build's `<job>_allocation_index`. A removed allocation has none (-1).
 */
export function livePeers(allocations: readonly PlanAllocation[]): string[] {
  return allocations.filter((a) => !a.removed).sort(byCatalogOrder).map((a) => a.workerIp);
}

export function byCatalogOrder(a: PlanAllocation, b: PlanAllocation): number {
  return a.position - b.position || (a.workerIp < b.workerIp ? -1 : a.workerIp > b.workerIp ? 1 : 0);
}

/** Batch width (SPEC §7.2): upgrades at least 1; starts 0 (or less) = one batch of everything. */
export function batchWidth(job: PlanJob, source: Exclude<WidthSource, "concurrency">, workerCount: number): number {
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
