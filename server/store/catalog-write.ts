import { dropUnreferencedBlobs, putBlobStatement } from "./file-blobs.js";
import type { Db } from "./db.js";
import type { SnapshotAllocation, SnapshotHook, SnapshotJob, SnapshotJobFile, SnapshotWorker } from "./catalog-snapshot.js";

export interface JobFileRecord extends SnapshotJobFile {
  content: Buffer;
}

/** Catalog rows to write; rows not named here stay as they are. */
export interface CatalogPlan {
  /** Inserted or replaced, labels included (worker_labels is rewritten for these). */
  upsertWorkers: SnapshotWorker[];
  deleteWorkers: string[];
  upsertJobs: SnapshotJob[];
  deleteJobs: string[];
  upsertHooks: SnapshotHook[];
  deleteHooks: Array<Pick<SnapshotHook, "job" | "hook" | "event">>;
  upsertJobFiles: JobFileRecord[];
  deleteJobFiles: Array<Pick<SnapshotJobFile, "job" | "path">>;
  upsertAllocations: SnapshotAllocation[];
  /** alloc_ids that get a fresh `hash` row (current_version 0.0.0 until deploy promotes). */
  insertHashes: string[];
}

/**
 * Writes build's catalog changes. The caller holds the transaction (build writes its KV rows in
 * the same one), so a kill at any point commits all of it or none.
 */
export function writeCatalogChanges(db: Db, c: CatalogPlan): void {
  const s = {
    deleteWorkerLabels: db.prepare("DELETE FROM worker_labels WHERE worker_id = ?"),
    deleteWorker: db.prepare("DELETE FROM workers WHERE worker_id = ?"),
    // An upsert, not REPLACE: a REPLACE deletes the row and would cascade to worker_labels.
    upsertWorker: db.prepare(
      `INSERT INTO workers (worker_id, worker_ip, hostname, position, memory_mb, cpu_mhz, tags)
       VALUES (@worker_id, @worker_ip, @hostname, @position, @memory_mb, @cpu_mhz, @tags)
       ON CONFLICT (worker_id) DO UPDATE SET worker_ip = excluded.worker_ip, hostname = excluded.hostname,
         position = excluded.position, memory_mb = excluded.memory_mb, cpu_mhz = excluded.cpu_mhz, tags = excluded.tags`,
    ),
    insertLabel: db.prepare("INSERT INTO worker_labels (worker_id, label) VALUES (?, ?)"),
    deleteJob: db.prepare("DELETE FROM jobs WHERE name = ?"),
    upsertJob: db.prepare(
      `INSERT OR REPLACE INTO jobs (job_id, name, version, selectors, max_concurrent_upgrades, max_concurrent_starts,
         restart_policy, deployment_seq, manifest, health_check)
       VALUES (@job_id, @name, @version, @selectors, @max_concurrent_upgrades, @max_concurrent_starts,
         @restart_policy, @deployment_seq, @manifest, @health_check)`,
    ),
    deleteHook: db.prepare("DELETE FROM hooks WHERE job = ? AND hook = ? AND event = ?"),
    upsertHook: db.prepare(
      `INSERT OR REPLACE INTO hooks (job, hook, event, script, timeout_seconds, demand_job, demand_hook, demand_config)
       VALUES (@job, @hook, @event, @script, @timeout_seconds, @demand_job, @demand_hook, @demand_config)`,
    ),
    deleteFile: db.prepare("DELETE FROM job_files WHERE job = ? AND path = ?"),
    upsertFile: db.prepare("INSERT OR REPLACE INTO job_files (job, path, mode, hash) VALUES (@job, @path, @mode, @hash)"),
    putBlob: putBlobStatement(db),
    upsertAllocation: db.prepare(
      `INSERT OR REPLACE INTO allocations (alloc_id, job, worker_ip, disabled, removed, deployment_seq, new_version, removed_at)
       VALUES (@alloc_id, @job, @worker_ip, @disabled, @removed, @deployment_seq, @new_version, @removed_at)`,
    ),
    insertHash: db.prepare("INSERT OR IGNORE INTO hash (alloc_id) VALUES (?)"),
  };

  for (const id of c.deleteWorkers) {
    s.deleteWorkerLabels.run(id);
    s.deleteWorker.run(id);
  }
  for (const w of c.upsertWorkers) {
    const { labels, ...row } = w;
    s.upsertWorker.run(row);
    s.deleteWorkerLabels.run(w.worker_id);
    for (const label of labels) s.insertLabel.run(w.worker_id, label);
  }
  for (const name of c.deleteJobs) s.deleteJob.run(name);
  for (const j of c.upsertJobs) s.upsertJob.run(j);
  for (const h of c.deleteHooks) s.deleteHook.run(h.job, h.hook, h.event);
  for (const h of c.upsertHooks) s.upsertHook.run(h);
  for (const f of c.deleteJobFiles) s.deleteFile.run(f.job, f.path);
  for (const f of c.upsertJobFiles) {
    s.putBlob(f.hash, f.content);
    s.upsertFile.run({ job: f.job, path: f.path, mode: f.mode, hash: f.hash });
  }
  if (c.deleteJobFiles.length || c.upsertJobFiles.length) dropUnreferencedBlobs(db);
  for (const a of c.upsertAllocations) s.upsertAllocation.run(a);
  for (const id of c.insertHashes) s.insertHash.run(id);
}
