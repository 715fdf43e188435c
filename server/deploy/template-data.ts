import { planAllocations } from "../hooks/plan-input.js";
import { livePeers } from "../hooks/worker-set.js";
import { getJob, listWorkers } from "../store/catalog.js";
import type { Db } from "../store/db.js";
import type { TemplateData } from "../templates/render.js";
import { bucketDir, jobDir } from "../workers/layout.js";

/**
 * The dot of a job's templates, per allocation (SPEC §12), from the same catalog facts hooks get
 * as environment: ALLOCATION_INDEX, CURRENT_VERSION (promoted), NEW_VERSION (the job's built
 * version). BucketPath and JobPath are the paths on the worker (/opt/worker/<bucket_id>[/jobs/<job>]),
 * where the rendered file is read. Read once per job; undefined for a worker without a
 * (non-removed) allocation of the job.
 */
export function jobTemplateData(db: Db, bucketId: string, job: string): (workerIp: string) => TemplateData | undefined {
  const allocations = planAllocations(db, [job]);
  const peers = livePeers(allocations);
  const workers = new Map(listWorkers(db).map((w) => [w.worker_ip, w]));
  const newVersion = getJob(db, job)?.version ?? "0.0.0";
  return (workerIp) => {
    const a = allocations.find((x) => x.workerIp === workerIp && !x.removed);
    const w = workers.get(workerIp);
    if (!a || !w) return undefined;
    return {
      WorkerIP: workerIp,
      WorkerID: w.worker_id,
      Job: job,
      AllocationID: a.allocId,
      AllocationIndex: peers.indexOf(workerIp),
      CurrentVersion: a.currentVersion,
      NewVersion: newVersion,
      Labels: w.labels ? w.labels.split(",") : [],
      BucketPath: bucketDir(bucketId),
      JobPath: jobDir(bucketId, job),
    };
  };
}
