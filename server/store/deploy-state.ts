import { dropUnreferencedBlobs, snapshotFileContents } from "./file-blobs.js";
import { dropUnreferencedSealFiles } from "./sync-seals.js";
import type { Db } from "./db.js";

/**
 * Deploy's catalog state (migration 3), one module for its SQL. Two layers per allocation:
 * `hash` holds what was promoted (the version and content the bucket considers deployed);
 * `deployments` holds what deploy has done on the worker since, written as each step succeeds
 * (synced, lifecycle applied, running, taken off the worker), so a deploy killed or failed half
 * way leaves facts a rerun can trust and only what is not promoted is redone.
 */

export interface DeployStateRow {
  alloc_id: string;
  job: string;
  worker_ip: string;
  /** 1 after a successful start/restart/reload (deploy or `maand job`), 0 after a stop. */
  running: number;
  /** Content hash last synced to the worker. */
  synced_hash: string;
  /** Content hash and version the last successful start/restart/reload ran with. */
  applied_hash: string;
  applied_version: string;
  /** A removed allocation that was stopped and whose files were taken off the worker. */
  cleaned: number;
  last_run_id: string;
  last_deploy_at: number;
  /** ok, failed, timeout, interrupted: the outcome of the last step deploy ran for it. */
  last_result: string;
  last_step: string;
  last_error: string;
  /** From `hash`: the promoted state ('' / 0.0.0 before the first promote). */
  current_hash: string;
  previous_hash: string;
  current_version: string;
  promoted_at: number;
}

/** What deploy records per allocation; sync_seal / sync_seal_files: the worker's sync seal (sync-seals.ts). */
type StateFields = Pick<DeployStateRow, "running" | "synced_hash" | "applied_hash" | "applied_version" | "cleaned"> & { sync_seal: string; sync_seal_files: string };

export interface StepOutcome {
  run_id: string;
  at: number;
  result: string;
  step: string;
  error: string;
}

const STATE_SELECT = `SELECT a.alloc_id, a.job, a.worker_ip,
    COALESCE(d.running, 0) AS running, COALESCE(d.synced_hash, '') AS synced_hash,
    COALESCE(d.applied_hash, '') AS applied_hash, COALESCE(d.applied_version, '') AS applied_version,
    COALESCE(d.cleaned, 0) AS cleaned, COALESCE(d.last_run_id, '') AS last_run_id,
    COALESCE(d.last_deploy_at, 0) AS last_deploy_at, COALESCE(d.last_result, '') AS last_result,
    COALESCE(d.last_step, '') AS last_step, COALESCE(d.last_error, '') AS last_error,
    COALESCE(h.current_hash, '') AS current_hash, COALESCE(h.previous_hash, '') AS previous_hash,
    COALESCE(h.current_version, '0.0.0') AS current_version, COALESCE(h.updated_at, 0) AS promoted_at
  FROM allocations a LEFT JOIN deployments d ON d.alloc_id = a.alloc_id LEFT JOIN hash h ON h.alloc_id = a.alloc_id`;

/**
 * Whether an allocation on the worker other than `exceptAllocId` still has files there: synced
 * or running, and not yet taken off (one never synced has none). A removal that finds none
 * takes the worker's last job off.
 */
export function workerHoldsOtherJobs(db: Db, workerIp: string, exceptAllocId: string): boolean {
  return (
    db
      .prepare(
        `SELECT 1 FROM allocations a JOIN deployments d ON d.alloc_id = a.alloc_id
         WHERE a.worker_ip = ? AND a.alloc_id <> ? AND d.cleaned = 0 AND (d.synced_hash <> '' OR d.running <> 0) LIMIT 1`,
      )
      .get(workerIp, exceptAllocId) !== undefined
  );
}

/** Deploy state of every allocation (removed ones included) by alloc_id. */
export function readDeployStates(db: Db, jobs?: readonly string[]): Map<string, DeployStateRow> {
  const where = jobs?.length ? ` WHERE a.job IN (${jobs.map(() => "?").join(",")})` : "";
  const rows = db.prepare(`${STATE_SELECT}${where} ORDER BY a.job, a.worker_ip`).all(...(jobs ?? [])) as DeployStateRow[];
  return new Map(rows.map((r) => [r.alloc_id, r]));
}

/**
 * Records what one step did to one allocation, in its own transaction: `fields` are facts about
 * the worker (set only when the step succeeded), `outcome` is the last-deploy columns.
 */
export function recordStep(db: Db, alloc: { alloc_id: string; job: string; worker_ip: string }, fields: Partial<StateFields>, outcome: StepOutcome | null): void {
  const sets = [
    ...(Object.keys(fields) as Array<keyof StateFields>).map((k) => `${k} = @${k}`),
    // `maand job` changes what runs, not what was deployed: it leaves the last-deploy columns alone.
    ...(outcome ? ["last_run_id = @run_id", "last_deploy_at = @at", "last_result = @result", "last_step = @step", "last_error = @error"] : []),
  ];
  if (!sets.length) return;
  db.transaction(() => {
    db.prepare("INSERT OR IGNORE INTO deployments (alloc_id, job, worker_ip) VALUES (?, ?, ?)").run(alloc.alloc_id, alloc.job, alloc.worker_ip);
    db.prepare(`UPDATE deployments SET ${sets.join(", ")} WHERE alloc_id = @alloc_id`).run({ ...fields, ...(outcome ?? {}), alloc_id: alloc.alloc_id });
  })();
}

/** Promotes allocations: current_hash := hash (previous kept), current_version := version. Call inside the promote transaction. */
export function promote(db: Db, rows: ReadonlyArray<{ alloc_id: string; hash: string; version: string }>, at: number): void {
  const ensure = db.prepare("INSERT OR IGNORE INTO hash (alloc_id) VALUES (?)");
  const update = db.prepare(
    `UPDATE hash SET previous_hash = CASE WHEN current_hash <> @hash THEN current_hash ELSE previous_hash END,
       current_hash = @hash, current_version = @version, updated_at = @at WHERE alloc_id = @alloc_id`,
  );
  for (const r of rows) {
    ensure.run(r.alloc_id);
    update.run({ ...r, at });
  }
}

/** The job as it was last promoted: what stops it once it has left the workspace. */
export interface DeployedJobRow {
  job: string;
  version: string;
  deployment_seq: number;
  max_concurrent_upgrades: number;
  restart_policy: string;
  /** JSON: HookRow[] of the job at promote time. */
  hooks: string;
  deployed_at: number;
}

/**
 * Keeps the job's built snapshot (job row, hooks, files) as its last deployed snapshot. Build
 * deletes a job's rows when it leaves the workspace; this copy is deploy's own. Its rows name
 * contents by hash (file_blobs, shared with the built snapshot) and are written only where they
 * differ, so an unchanged 20 MB job costs one comparison and a changed one no content copy.
 */
export function saveDeployedSnapshot(db: Db, job: string, at: number): void {
  const row = db.prepare("SELECT name, version, deployment_seq, max_concurrent_upgrades, restart_policy FROM jobs WHERE name = ?").get(job) as
    | { name: string; version: string; deployment_seq: number; max_concurrent_upgrades: number; restart_policy: string }
    | undefined;
  if (!row) return;
  const hooks = db.prepare("SELECT * FROM hooks WHERE job = ? ORDER BY hook, event").all(job);
  db.prepare(
    `INSERT OR REPLACE INTO deployed_jobs (job, version, deployment_seq, max_concurrent_upgrades, restart_policy, hooks, deployed_at)
     VALUES (?, ?, ?, ?, ?, ?, ?)`,
  ).run(job, row.version, row.deployment_seq, row.max_concurrent_upgrades, row.restart_policy, JSON.stringify(hooks), at);
  const deleted = db.prepare(
    `DELETE FROM deployed_job_files WHERE job = ? AND path NOT IN (SELECT path FROM job_files WHERE job = ?)`,
  ).run(job, job).changes;
  const replaced = db.prepare(
    `INSERT OR REPLACE INTO deployed_job_files (job, path, mode, hash)
     SELECT f.job, f.path, f.mode, f.hash FROM job_files f
     LEFT JOIN deployed_job_files d ON d.job = f.job AND d.path = f.path
     WHERE f.job = ? AND (d.hash IS NULL OR d.hash <> f.hash OR d.mode <> f.mode)`,
  ).run(job).changes;
  // The previous deploy's contents, kept for it after build replaced them, may be needed no more.
  if (deleted || replaced) dropUnreferencedBlobs(db);
}

export function listDeployedJobs(db: Db): DeployedJobRow[] {
  return db.prepare("SELECT * FROM deployed_jobs ORDER BY deployment_seq, job").all() as DeployedJobRow[];
}

export function listDeployedJobFileHashes(db: Db, job: string): Array<{ path: string; mode: number; hash: string }> {
  return db.prepare("SELECT path, mode, hash FROM deployed_job_files WHERE job = ? ORDER BY path").all(job) as Array<{ path: string; mode: number; hash: string }>;
}

export function deployedJobFileContent(db: Db, job: string, path: string): Buffer | undefined {
  return snapshotFileContents(db, "deployed_job_files")(job, path);
}

/** Every deploy gets the next update_seq (written to each worker's worker.json it touches). */
export function nextUpdateSeq(db: Db): number {
  return db.transaction(() => {
    db.prepare("UPDATE bucket SET update_seq = update_seq + 1").run();
    return (db.prepare("SELECT update_seq FROM bucket").get() as { update_seq: number } | undefined)?.update_seq ?? 0;
  }).immediate();
}

/** gc: deploy state of purged allocations, and snapshots of jobs no allocation refers to any more. */
export function purgeDeployState(db: Db, allocIds: readonly string[]): void {
  const del = db.prepare("DELETE FROM deployments WHERE alloc_id = ?");
  for (const id of allocIds) del.run(id);
  const orphan = "job NOT IN (SELECT job FROM allocations) AND job NOT IN (SELECT name FROM jobs)";
  db.prepare(`DELETE FROM deployed_job_files WHERE ${orphan}`).run();
  db.prepare(`DELETE FROM deployed_jobs WHERE ${orphan}`).run();
  dropUnreferencedBlobs(db);
  dropUnreferencedSealFiles(db);
}
