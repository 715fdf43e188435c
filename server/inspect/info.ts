import type { BucketContext } from "../bucket/context.js";
import { schemaVersion } from "../store/db.js";
import { bucketId } from "../store/catalog.js";

export interface BucketInfo {
  bucket_id: string;
  root: string;
  catalog: string;
  workspace: string;
  schema_version: number;
  workers: number;
  jobs: number;
  allocations: { total: number; active: number; disabled: number; removed: number };
  kv: { keys: number; rows: number };
}

export function bucketInfo(ctx: BucketContext): BucketInfo {
  const { db, paths } = ctx;
  const count = (sql: string) => db.prepare(sql).pluck().get() as number;
  const a = db
    .prepare(
      `SELECT COUNT(*) AS total,
              COALESCE(SUM(removed = 0 AND disabled = 0), 0) AS active,
              COALESCE(SUM(removed = 0 AND disabled = 1), 0) AS disabled,
              COALESCE(SUM(removed = 1), 0) AS removed
       FROM allocations`,
    )
    .get() as BucketInfo["allocations"];
  return {
    bucket_id: bucketId(db),
    root: paths.root,
    catalog: paths.db,
    workspace: paths.workspace,
    schema_version: schemaVersion(db),
    workers: count("SELECT COUNT(*) FROM workers"),
    jobs: count("SELECT COUNT(*) FROM jobs"),
    allocations: a,
    kv: {
      keys: count("SELECT COUNT(*) FROM (SELECT 1 FROM kv GROUP BY namespace, key)"),
      rows: count("SELECT COUNT(*) FROM kv"),
    },
  };
}
