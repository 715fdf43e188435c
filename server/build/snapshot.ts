import type { Db } from "../store/db.js";
import { type KvRow } from "../store/kv.js";
import { latestKvRows, type AllocationRow, type HookRow, type JobFileRow, type JobRow, type WorkerRow } from "../store/catalog.js";
import { isSecretNamespace } from "../kv/namespaces.js";

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

/** Everything planBuild needs from the database, read once. */
export interface BuildState {
  catalog: CatalogSnapshot;
  /**
   * Latest row of every KV key, tombstones and expired rows included. Values are plaintext
   * (`encrypted` still says how the row is stored), except in secrets/*, which build never
   * compares and so never needs kv.key for.
   */
  kv: KvRow[];
}

/** `decode` is KvStore.decode: the planner stays pure and compares plaintext (certificate keys). */
export function readBuildState(db: Db, decode: (row: KvRow) => string): BuildState {
  // One read transaction: catalog and KV from the same committed state.
  return db.transaction(() => {
    const kv = latestKvRows(db);
    for (const row of kv) if (row.encrypted && !isSecretNamespace(row.namespace)) row.value = decode(row);
    return { catalog: readCatalogSnapshot(db), kv };
  })();
}

export function readCatalogSnapshot(db: Db): CatalogSnapshot {
  const bucket = db.prepare("SELECT bucket_id FROM bucket").get() as { bucket_id: string } | undefined;
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
    bucketId: bucket?.bucket_id ?? "",
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
