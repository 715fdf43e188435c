import type { Db } from "../store/db.js";
import type { KvSession } from "../store/kv-session.js";
import { listAllocations, upstreamJobs } from "../store/catalog.js";
import type { Invocation } from "./registry.js";
import type { SemaphoreBoard } from "./semaphores.js";

/**
 * What procedures see: the authenticated invocation, the per-server services, and (for routes
 * that wait) a signal that fires when the client goes away.
 */
export interface ApiContext {
  invocation: Invocation;
  services: ApiServices;
  signal?: AbortSignal;
}

/** Created once per server; nothing here is module state. */
export interface ApiServices {
  db: Db;
  kv: KvSession;
  semaphores: SemaphoreBoard;
  /** Jobs named in the invocation's job's hook demands (cached per invocation). */
  upstreamJobs(inv: Invocation): readonly string[];
  /** Workers of the job's non-removed allocations, catalog order. */
  jobWorkers(job: string): string[];
}

export function createApiServices(db: Db, kv: KvSession, semaphores: SemaphoreBoard): ApiServices {
  // The catalog does not change while hooks run, and an invocation lives for one hook process.
  const upstream = new WeakMap<Invocation, readonly string[]>();
  return {
    db,
    kv,
    semaphores,
    upstreamJobs(inv) {
      let jobs = upstream.get(inv);
      if (!jobs) {
        jobs = upstreamJobs(db, inv.job);
        upstream.set(inv, jobs);
      }
      return jobs;
    },
    jobWorkers: (job) => listAllocations(db, { jobs: [job] }).map((a) => a.worker_ip),
  };
}
