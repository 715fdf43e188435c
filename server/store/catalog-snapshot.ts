import type { Db } from "./db.js";
import { bucketId, type AllocationRow, type HookRow, type JobFileRow, type JobRow, type WorkerRow } from "./catalog.js";

/** The catalog as build last left it: one read of each table, no file contents. */
export interface CatalogSnapshot {
  bucketId: string;
  workers: SnapshotWorker[];
  jobs: SnapshotJob[];
  hooks: SnapshotHook[];
  jobFiles: SnapshotJobFile[];
  allocations: SnapshotAllocation[];
  /** alloc_ids that have a `hash` row. */
  hashIds: string[];
}

// The catalog's own row types, so a column added to the schema is declared once.
export type SnapshotWorker = Omit<WorkerRow, "labels"> & {
  /** Sorted. */
  labels: string[];
};
export type SnapshotJob = JobRow;
export type SnapshotHook = HookRow;
export type SnapshotJobFile = Omit<JobFileRow, "content">;

/** The allocations table as stored (the catalog's AllocationRow adds joined columns). */
export type SnapshotAllocation = Omit<AllocationRow, "position" | "current_version"> & { removed_at: number | null };

export function readCatalogSnapshot(db: Db): CatalogSnapshot {
  const labels = new Map<string, string[]>();
  for (const r of db.prepare("SELECT worker_id, label FROM worker_labels ORDER BY worker_id, label").all() as { worker_id: string; label: string }[]) {
    const list = labels.get(r.worker_id);
    if (list) list.push(r.label);
    else labels.set(r.worker_id, [r.label]);
  }
  const workers = (db.prepare("SELECT * FROM workers ORDER BY position").all() as Omit<SnapshotWorker, "labels">[]).map((w) => ({
    ...w,
    labels: labels.get(w.worker_id) ?? [],
  }));
  return {
    bucketId: bucketId(db),
    workers,
    jobs: db.prepare("SELECT * FROM jobs ORDER BY name").all() as SnapshotJob[],
    hooks: db.prepare("SELECT * FROM hooks ORDER BY job, hook, event").all() as SnapshotHook[],
    jobFiles: db.prepare("SELECT job, path, mode, hash FROM job_files ORDER BY job, path").all() as SnapshotJobFile[],
    allocations: db
      .prepare("SELECT alloc_id, job, worker_ip, disabled, removed, deployment_seq, new_version, removed_at FROM allocations ORDER BY job, worker_ip")
      .all() as SnapshotAllocation[],
    hashIds: (db.prepare("SELECT alloc_id FROM hash").pluck().all() as string[]),
  };
}
