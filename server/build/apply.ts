import { randomBytes } from "node:crypto";
import { buildId, setBuildId } from "../store/catalog.js";
import type { Db } from "../store/db.js";
import type { KvStore } from "../store/kv.js";
import { writeCatalogChanges } from "../store/catalog-write.js";
import type { BuildPlan } from "./plan.js";

/**
 * Writes a build plan in ONE immediate transaction: either every catalog row and KV version of
 * the plan is committed, or (error, kill -9, power loss) none is. Returns the build's new id.
 */
export function applyBuild(db: Db, kv: KvStore, plan: BuildPlan): string {
  const c = plan.catalog;
  return db.transaction(() => {
    writeCatalogChanges(db, c);
    for (const w of plan.kv) kv.insertRow(w, w.version, plan.now);
    // The id names the catalog's job files (what tmp/build-stat.json may vouch for): a new one
    // when they change, so a rebuild that changes nothing still writes nothing.
    const prior = buildId(db);
    if (prior && !c.upsertJobFiles.length && !c.deleteJobFiles.length && !c.deleteJobs.length) return prior;
    const id = randomBytes(12).toString("hex");
    setBuildId(db, id);
    return id;
  }).immediate();
}
