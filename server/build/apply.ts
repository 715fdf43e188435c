import type { Db } from "../store/db.js";
import type { KvStore } from "../store/kv.js";
import { writeCatalogChanges } from "../store/catalog-write.js";
import type { BuildPlan } from "./plan.js";

/**
 * Writes a build plan in ONE immediate transaction: either every catalog row and KV version of
 * the plan is committed, or (error, kill -9, power loss) none is.
 */
export function applyBuild(db: Db, kv: KvStore, plan: BuildPlan): void {
  db.transaction(() => {
    writeCatalogChanges(db, plan.catalog);
    for (const w of plan.kv) kv.insertRow(w, w.version, plan.now);
  }).immediate();
}
