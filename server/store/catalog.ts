import { snapshotFileContents } from "./file-blobs.js";
import type { HealthCheckSpec } from "../workspace/model.js";
import type { Db } from "./db.js";
import type { KvRow } from "./kv.js";

/**
 * Read queries over the catalog, shared by cat, the hook engine, the runtime API and deploy.
 * Rows keep the catalog's column names: `maand cat --json` prints them as they are.
 * Orders are catalog order (worker position) unless said otherwise.
 */

export interface WorkerRow {
  worker_id: string;
  worker_ip: string;
  hostname: string;
  position: number;
  memory_mb: number;
  cpu_mhz: number;
  tags: string;
  labels: string;
}

export interface JobRow {
  job_id: string;
  name: string;
  version: string;
  selectors: string;
  max_concurrent_upgrades: number;
  max_concurrent_starts: number;
  restart_policy: string;
  deployment_seq: number;
  manifest: string;
  /** JSON of the normalised HealthCheckSpec; "" when the manifest has none. Read it with jobHealthCheck. */
  health_check: string;
}

export interface AllocationRow {
  alloc_id: string;
  job: string;
  worker_ip: string;
  disabled: number;
  removed: number;
  deployment_seq: number;
  new_version: string;
  /** Worker position, or a large number for workers that left the workspace (sorts them last). */
  position: number;
  current_version: string;
}

export interface HookRow {
  job: string;
  hook: string;
  event: string;
  script: string;
  timeout_seconds: number;
  demand_job: string | null;
  demand_hook: string | null;
  demand_config: string | null;
}

export interface JobFileRow {
  job: string;
  path: string;
  mode: number;
  hash: string;
  content: Buffer;
}

export interface AllocationFilter {
  jobs?: readonly string[];
  workers?: readonly string[];
  includeRemoved?: boolean;
}

export function listWorkers(db: Db): WorkerRow[] {
  return db
    .prepare(
      `SELECT w.*, COALESCE((SELECT group_concat(label, ',') FROM
          (SELECT label FROM worker_labels l WHERE l.worker_id = w.worker_id ORDER BY label)), '') AS labels
       FROM workers w ORDER BY w.position`,
    )
    .all() as WorkerRow[];
}

export function listJobs(db: Db): JobRow[] {
  return db.prepare("SELECT * FROM jobs ORDER BY deployment_seq, name").all() as JobRow[];
}

/** The job's health checks (SPEC §11) as build normalised them, or undefined when it has none. */
export function jobHealthCheck(db: Db, job: string): HealthCheckSpec | undefined {
  const row = db.prepare("SELECT health_check FROM jobs WHERE name = ?").get(job) as { health_check: string } | undefined;
  return row?.health_check ? (JSON.parse(row.health_check) as HealthCheckSpec) : undefined;
}

export function getJob(db: Db, name: string): JobRow | undefined {
  return db.prepare("SELECT * FROM jobs WHERE name = ?").get(name) as JobRow | undefined;
}

export function listAllocations(db: Db, filter: AllocationFilter = {}): AllocationRow[] {
  const where: string[] = [];
  const args: string[] = [];
  if (!filter.includeRemoved) where.push("a.removed = 0");
  if (filter.jobs?.length) {
    where.push(`a.job IN (${filter.jobs.map(() => "?").join(",")})`);
    args.push(...filter.jobs);
  }
  if (filter.workers?.length) {
    where.push(`a.worker_ip IN (${filter.workers.map(() => "?").join(",")})`);
    args.push(...filter.workers);
  }
  return db
    .prepare(
      `SELECT a.alloc_id, a.job, a.worker_ip, a.disabled, a.removed, a.deployment_seq, a.new_version,
              COALESCE(w.position, 1000000000) AS position, COALESCE(h.current_version, '0.0.0') AS current_version
       FROM allocations a
       LEFT JOIN workers w ON w.worker_ip = a.worker_ip
       LEFT JOIN hash h ON h.alloc_id = a.alloc_id
       ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
       ORDER BY a.deployment_seq, a.job, position, a.worker_ip`,
    )
    .all(...args) as AllocationRow[];
}

export function listHooks(db: Db, filter: { job?: string; hook?: string; event?: string } = {}): HookRow[] {
  const where: string[] = [];
  const args: string[] = [];
  for (const [col, v] of [["h.job", filter.job], ["h.hook", filter.hook], ["h.event", filter.event]] as const) {
    if (v !== undefined) {
      where.push(`${col} = ?`);
      args.push(v);
    }
  }
  return db
    .prepare(
      `SELECT h.* FROM hooks h LEFT JOIN jobs j ON j.name = h.job
       ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
       ORDER BY COALESCE(j.deployment_seq, 0), h.job, h.hook, h.event`,
    )
    .all(...args) as HookRow[];
}

/** Hooks whose demands name (job, hook): the reverse lookup behind GET /demands. */
export function listDemandsOn(db: Db, job: string, hook: string): HookRow[] {
  return db
    .prepare(
      `SELECT job, hook, MIN(event) AS event, script, timeout_seconds, demand_job, demand_hook, demand_config
       FROM hooks WHERE demand_job = ? AND demand_hook = ? GROUP BY job, hook ORDER BY job, hook`,
    )
    .all(job, hook) as HookRow[];
}

/** Jobs named in any of this job's hook demands (the upstreams whose KV it may read). */
export function upstreamJobs(db: Db, job: string): string[] {
  return (
    db.prepare("SELECT DISTINCT demand_job FROM hooks WHERE job = ? AND demand_job IS NOT NULL ORDER BY demand_job").all(job) as {
      demand_job: string;
    }[]
  ).map((r) => r.demand_job);
}

/** Path, mode and hash only: enough to decide what needs restaging without loading contents. */
export function listJobFileHashes(db: Db, job: string): Omit<JobFileRow, "content">[] {
  return db.prepare("SELECT job, path, mode, hash FROM job_files WHERE job = ? ORDER BY path").all(job) as Omit<JobFileRow, "content">[];
}

/** Whether a built job holds a file at `path` (a hook's script must be in the snapshot staging copies). */
export function hasJobFile(db: Db, job: string, path: string): boolean {
  return db.prepare("SELECT 1 FROM job_files WHERE job = ? AND path = ?").get(job, path) !== undefined;
}

/** Reads files' contents from the built snapshot (one prepared statement for many reads: staging, deploy). */
export function jobFileContents(db: Db): (job: string, path: string) => Buffer | undefined {
  return snapshotFileContents(db, "job_files");
}

/** Written once, by init: the bucket row every other table's rows belong to. */
export function insertBucketRow(db: Db, id: string, createdAt: number): void {
  db.prepare("INSERT INTO bucket (bucket_id, created_at) VALUES (?, ?)").run(id, createdAt);
}

/** The id of the last committed build ('' before the first; migration 7). */
export function buildId(db: Db): string {
  return (db.prepare("SELECT build_id FROM bucket").get() as { build_id: string } | undefined)?.build_id ?? "";
}

export function setBuildId(db: Db, id: string): void {
  db.prepare("UPDATE bucket SET build_id = ?").run(id);
}

export function bucketId(db: Db): string {
  const row = db.prepare("SELECT bucket_id FROM bucket").get() as { bucket_id: string } | undefined;
  return row?.bucket_id ?? "";
}

/**
 * Latest row of every KV key (tombstones and expired rows included), in (namespace, key) order,
 * in one scan of the primary key. SQLite's documented bare-column rule makes the other columns
 * come from the row holding MAX(version); at 100k+ keys this is several times faster than
 * joining on a grouped subquery (build's snapshot).
 */
export function latestKvRows(db: Db): KvRow[] {
  return db
    .prepare(
      `SELECT namespace, key, MAX(version) AS version, value, ttl, created_at, deleted, encrypted
       FROM kv GROUP BY namespace, key ORDER BY namespace, key`,
    )
    .all() as KvRow[];
}

/** Row counts `maand info` reports. */
export function catalogCounts(db: Db): {
  workers: number;
  jobs: number;
  allocations: { total: number; active: number; disabled: number; removed: number };
  kv: { keys: number; rows: number };
} {
  const count = (sql: string) => db.prepare(sql).pluck().get() as number;
  const allocations = db
    .prepare(
      `SELECT COUNT(*) AS total,
              COALESCE(SUM(removed = 0 AND disabled = 0), 0) AS active,
              COALESCE(SUM(removed = 0 AND disabled = 1), 0) AS disabled,
              COALESCE(SUM(removed = 1), 0) AS removed
       FROM allocations`,
    )
    .get() as { total: number; active: number; disabled: number; removed: number };
  return {
    workers: count("SELECT COUNT(*) FROM workers"),
    jobs: count("SELECT COUNT(*) FROM jobs"),
    allocations,
    kv: { keys: count("SELECT COUNT(*) FROM (SELECT 1 FROM kv GROUP BY namespace, key)"), rows: count("SELECT COUNT(*) FROM kv") },
  };
}
