import { listAllocations, listWorkers } from "../store/catalog.js";
import type { Db } from "../store/db.js";
import type { JobsJsonEntry, WorkerLayout } from "../workers/sync.js";

/**
 * worker.json and jobs.json for one worker, from the catalog as it is now: the worker's facts,
 * the deploy's update_seq, and per job on it the promoted and the target version (runner.py
 * reads them for CURRENT_VERSION / NEW_VERSION when run by hand on the worker). Undefined for a
 * worker that left the workspace: it only gets its jobs taken off.
 */
export function workerLayout(db: Db, bucketId: string, host: string, updateSeq: number): WorkerLayout | undefined {
  const w = listWorkers(db).find((x) => x.worker_ip === host);
  if (!w) return undefined;
  const jobs: Record<string, JobsJsonEntry> = {};
  for (const a of listAllocations(db, { workers: [host] })) {
    jobs[a.job] = { current_version: a.current_version, new_version: a.new_version, disabled: a.disabled !== 0 };
  }
  return {
    worker: {
      bucket_id: bucketId,
      worker_id: w.worker_id,
      worker_ip: w.worker_ip,
      hostname: w.hostname,
      position: w.position,
      labels: w.labels ? w.labels.split(",") : [],
    },
    updateSeq,
    jobs,
  };
}
