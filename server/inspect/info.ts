import type { BucketContext } from "../bucket/context.js";
import { schemaVersion } from "../store/db.js";
import { bucketId, catalogCounts } from "../store/catalog.js";

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
  return {
    bucket_id: bucketId(db),
    root: paths.root,
    catalog: paths.db,
    workspace: paths.workspace,
    schema_version: schemaVersion(db),
    ...catalogCounts(db),
  };
}
