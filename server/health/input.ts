import { listAllocations, listJobs, jobHealthCheck } from "../store/catalog.js";
import type { Db } from "../store/db.js";
import type { KvReader } from "../store/kv.js";
import { NS, ROLLOUT_ORDER_KEY } from "../kv/namespaces.js";
import { MaandError } from "../errors.js";
import { planHealthChecks, type HealthPlan } from "./plan.js";

/**
 * Reads what planHealthChecks needs. A port given as a KV key is looked up, for each allocation,
 * in the job's own readable namespaces, most specific first: maand/job/<job>/worker/<ip>,
 * vars/job/<job>, vars/bucket/job/<job>, vars/bucket.
 */
export function loadHealthPlan(db: Db, kv: KvReader, request: { jobs?: readonly string[]; workers?: readonly string[] } = {}): HealthPlan {
  const known = listJobs(db).map((j) => j.name);
  const unknown = (request.jobs ?? []).filter((j) => !known.includes(j));
  if (unknown.length) throw new MaandError(`--jobs: unknown job ${unknown.join(", ")} (jobs: ${known.join(", ") || "none"}); run 'maand build' if it was added`);
  const wanted = request.jobs?.length ? listJobs(db).filter((j) => request.jobs!.includes(j.name)) : listJobs(db);
  const jobs = wanted.flatMap((j) => {
    const healthCheck = jobHealthCheck(db, j.name);
    return healthCheck && healthCheck.checks.length ? [{ name: j.name, maxConcurrentUpgrades: j.max_concurrent_upgrades, healthCheck }] : [];
  });
  const names = jobs.map((j) => j.name);
  const allocations = names.length
    ? listAllocations(db, { jobs: names })
        .filter((a) => !a.disabled)
        .map((a) => ({ allocId: a.alloc_id, job: a.job, workerIp: a.worker_ip }))
    : [];
  const rolloutOrders = Object.fromEntries(names.map((n) => [n, kv.get(NS.job(n), ROLLOUT_ORDER_KEY)]));
  const portOf = (job: string, ip: string, key: string) =>
    [NS.allocation(job, ip), NS.jobVars(job), NS.bucketJobVars(job), NS.bucketVars].map((ns) => kv.get(ns, key)).find((v) => v !== undefined);
  return planHealthChecks({ jobs, allocations, rolloutOrders, portOf, ...(request.workers ? { workers: request.workers } : {}) });
}
