import type { Db } from "../store/db.js";
import { listAllocations, listHooks, listJobs, listWorkers, type AllocationRow, type HookRow, type JobRow, type WorkerRow } from "../store/catalog.js";
import { assertKnownNames } from "./filters.js";

/** `maand cat allocations` rows: catalog column names, removed allocations included. */
export type CatAllocationRow = Omit<AllocationRow, "position">;

/**
 * `maand cat` rows: the catalog's column names, with the columns the catalog keeps as JSON text
 * (labels, tags, selectors, manifest, health_check, demand_config) decoded, so `--json` holds
 * no JSON inside JSON strings.
 */
export type CatWorkerRow = Omit<WorkerRow, "labels" | "tags"> & { labels: string[]; tags: Record<string, string> };
export type CatJobRow = Omit<JobRow, "selectors" | "manifest" | "health_check"> & {
  selectors: string[];
  manifest: Record<string, unknown>;
  health_check: Record<string, unknown> | null;
};
export type CatHookRow = Omit<HookRow, "demand_config"> & { demand_config: Record<string, unknown> | null };

const decode = <T>(text: string | null, empty: T): T => (text ? (JSON.parse(text) as T) : empty);

export function catWorkers(db: Db): CatWorkerRow[] {
  return listWorkers(db).map((w) => ({ ...w, labels: w.labels ? w.labels.split(",") : [], tags: decode(w.tags, {}) }));
}

export function catJobs(db: Db): CatJobRow[] {
  return listJobs(db).map((j) => ({ ...j, selectors: decode(j.selectors, []), manifest: decode(j.manifest, {}), health_check: decode(j.health_check, null) }));
}

export function catHooks(db: Db): CatHookRow[] {
  return listHooks(db).map((h) => ({ ...h, demand_config: decode(h.demand_config, null) }));
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
