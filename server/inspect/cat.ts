import type { Db } from "../store/db.js";
import { listAllocations, listHooks, listJobs, listWorkers, type AllocationRow, type HookRow, type JobRow, type WorkerRow } from "../store/catalog.js";
import { assertKnownNames } from "./filters.js";

/** `maand cat allocations` rows: catalog column names, removed allocations included. */
export type CatAllocationRow = Omit<AllocationRow, "position">;

export function catWorkers(db: Db): WorkerRow[] {
  return listWorkers(db);
}

export function catJobs(db: Db): JobRow[] {
  return listJobs(db);
}

export function catHooks(db: Db): HookRow[] {
  return listHooks(db);
}

export function catAllocations(db: Db, filter: { jobs?: readonly string[]; workers?: readonly string[] } = {}): CatAllocationRow[] {
  if (filter.jobs?.length || filter.workers?.length) {
    // Removed allocations (kept until gc) still name jobs and workers that left the workspace.
    const all = listAllocations(db, { includeRemoved: true });
    assertKnownNames("--jobs", "job", filter.jobs, [...listJobs(db).map((j) => j.name), ...all.map((a) => a.job)]);
    assertKnownNames("--workers", "worker", filter.workers, [...listWorkers(db).map((w) => w.worker_ip), ...all.map((a) => a.worker_ip)]);
  }
  return listAllocations(db, { ...filter, includeRemoved: true }).map((a) => ({
    alloc_id: a.alloc_id,
    job: a.job,
    worker_ip: a.worker_ip,
    disabled: a.disabled,
    removed: a.removed,
    deployment_seq: a.deployment_seq,
    new_version: a.new_version,
    current_version: a.current_version,
  }));
}
