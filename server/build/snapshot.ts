import type { Db } from "../store/db.js";
import { type KvRow } from "../store/kv.js";
import { latestKvRows } from "../store/catalog.js";
import { readCatalogSnapshot, type CatalogSnapshot } from "../store/catalog-snapshot.js";

export type { CatalogSnapshot, SnapshotAllocation, SnapshotHook, SnapshotJob, SnapshotJobFile, SnapshotWorker } from "../store/catalog-snapshot.js";
import { isSecretNamespace } from "../kv/namespaces.js";

/** Everything planBuild needs from the database, read once. */
export interface BuildState {
  catalog: CatalogSnapshot;
  /**
   * Latest row of every KV key, tombstones and expired rows included. Values are plaintext
   * (`encrypted` still says how the row is stored), except in secrets/*, which build never
   * compares and so never needs kv.key for.
   */
  kv: KvRow[];
}

/** `decode` is KvStore.decode: the planner stays pure and compares plaintext (certificate keys). */
export function readBuildState(db: Db, decode: (row: KvRow) => string): BuildState {
  // One read transaction: catalog and KV from the same committed state.
  return db.transaction(() => {
    const kv = latestKvRows(db);
    for (const row of kv) if (row.encrypted && !isSecretNamespace(row.namespace)) row.value = decode(row);
    return { catalog: readCatalogSnapshot(db), kv };
  })();
}
