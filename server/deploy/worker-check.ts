import type { BucketContext } from "../bucket/context.js";
import { listWorkers } from "../store/catalog.js";
import { checkWorkers } from "../workers/check.js";
import type { WorkerPool } from "../workers/pool.js";
import { DeployCheckFailed } from "./errors.js";

/**
 * Deploy's and job control's check of every worker a plan contacts, before anything changes
 * anywhere: one round-trip each; a failure names every worker and problem, and which failed
 * workers are not in the catalog any more (removed ones being taken off).
 */
export async function checkPlanWorkers(ctx: BucketContext, pool: WorkerPool, hosts: readonly string[], signal: AbortSignal): Promise<void> {
  if (!hosts.length) return;
  const checks = await checkWorkers(pool, hosts, { signal });
  const failed = checks.filter((c) => !c.ok);
  if (!failed.length) return;
  const inCatalog = new Set(listWorkers(ctx.db).map((w) => w.worker_ip));
  throw new DeployCheckFailed(
    failed.map((c) => ({ host: c.host, problems: c.problems, unreachable: c.unreachable !== undefined })),
    new Set(failed.map((c) => c.host).filter((h) => !inCatalog.has(h))),
  );
}

