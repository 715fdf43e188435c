import type { Db } from "./db.js";
import { NS } from "../kv/namespaces.js";
import { purgeDeployState } from "./deploy-state.js";

const DAY_MS = 86400_000;

/**
 * The catalog side of `maand gc`: what removed allocations and KV history to purge, and the
 * purge itself in one transaction (run logs and worker logs are server/logs/gc.ts).
 */

/** What `maand gc` will purge (also what --dry-run prints). */
export interface GcPlan {
  /** History older than this (ms since epoch) goes. */
  cutoff: number;
  /** Removed allocations: with their hash rows and every KV row of their namespaces. */
  allocations: Array<{ alloc_id: string; job: string; worker_ip: string }>;
  /** Keys whose latest version is a tombstone written before the cutoff: every version goes. */
  deadKeys: Array<{ namespace: string; key: string }>;
  /** KV versions that stopped being current before the cutoff. */
  supersededRows: number;
}

/** Rows actually deleted. */
export interface GcResult {
  allocations: number;
  hashes: number;
  /** KV rows of the removed allocations' namespaces. */
  allocationKvRows: number;
  /** Every version of the dead keys. */
  deadKeyRows: number;
  /** Versions superseded before the cutoff. */
  supersededRows: number;
}


// A version is superseded "at" the created_at of a newer version: history is kept N days after
// it stopped being current, not N days after it was written.
const SUPERSEDED = `EXISTS (SELECT 1 FROM kv n WHERE n.namespace = kv.namespace AND n.key = kv.key
                      AND n.version > kv.version AND n.created_at < ?)`;
export const allocationNamespace = (a: { job: string; worker_ip: string }): string => NS.allocation(a.job, a.worker_ip);

export function planGc(db: Db, now: number, retainDays: number): GcPlan {
  const cutoff = now - retainDays * DAY_MS;
  return db.transaction(() => ({
    cutoff,
    allocations: db.prepare("SELECT alloc_id, job, worker_ip FROM allocations WHERE removed = 1 ORDER BY job, worker_ip").all() as GcPlan["allocations"],
    deadKeys: db
      .prepare(
        `SELECT namespace, key FROM kv k WHERE deleted = 1 AND created_at < ?
           AND version = (SELECT MAX(version) FROM kv WHERE namespace = k.namespace AND key = k.key)
         ORDER BY namespace, key`,
      )
      .all(cutoff) as GcPlan["deadKeys"],
    supersededRows: db.prepare(`SELECT COUNT(*) FROM kv WHERE ${SUPERSEDED}`).pluck().get(cutoff) as number,
  }))();
}

/** Purges what the plan names, in one transaction. */
export function applyGc(db: Db, plan: GcPlan): GcResult {
  const s = {
    hash: db.prepare("DELETE FROM hash WHERE alloc_id = ?"),
    alloc: db.prepare("DELETE FROM allocations WHERE alloc_id = ? AND removed = 1"),
    ns: db.prepare("DELETE FROM kv WHERE namespace = ?"),
    key: db.prepare("DELETE FROM kv WHERE namespace = ? AND key = ?"),
    superseded: db.prepare(`DELETE FROM kv WHERE ${SUPERSEDED}`),
  };
  return db.transaction(() => {
    const r: GcResult = { allocations: 0, hashes: 0, allocationKvRows: 0, deadKeyRows: 0, supersededRows: 0 };
    for (const a of plan.allocations) {
      r.hashes += s.hash.run(a.alloc_id).changes;
      r.allocations += s.alloc.run(a.alloc_id).changes;
      r.allocationKvRows += s.ns.run(allocationNamespace(a)).changes;
    }
    for (const k of plan.deadKeys) r.deadKeyRows += s.key.run(k.namespace, k.key).changes;
    r.supersededRows = s.superseded.run(plan.cutoff).changes;
    // Deploy's state of the purged allocations, and the snapshots of jobs nothing refers to now.
    purgeDeployState(db, plan.allocations.map((a) => a.alloc_id));
    return r;
  }).immediate();
}
