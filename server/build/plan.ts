import type { Workspace } from "../workspace/model.js";
import { placeJobs } from "./allocate.js";
import { desiredKv, type CertValues } from "./kv-desired.js";
import { diffKv, type VersionedKvWrite } from "./kv-diff.js";
import { planCatalog, type AllocationChanges, type CatalogCounts, type CatalogPlan } from "./plan-catalog.js";
import type { BuildState } from "./snapshot.js";
import { NS } from "../kv/namespaces.js";

export interface BuildInput {
  workspace: Workspace;
  /** Catalog snapshot and latest KV rows, read once before planning. */
  state: BuildState;
  now: number;
  /** PEM of secrets/ca.crt, published as maand/worker certs/ca.crt. */
  caCertPem: string;
  /** Leaf certificates for every (job, worker, cert) of the workspace (see certs.ts). */
  certs: CertValues;
}

export interface BuildSummary extends CatalogCounts {
  /** State after the build. */
  totals: { workers: number; jobs: number; active: number; disabled: number; removed: number };
  kv: { written: number; tombstoned: number };
  changes: AllocationChanges;
  /** Workers in the catalog before the build. */
  workersBefore: number;
}

/** Everything a build will write, as plain data: tests assert on it, applyBuild executes it. */
export interface BuildPlan {
  now: number;
  catalog: CatalogPlan;
  /** Sorted by namespace, key; versions already assigned. */
  kv: VersionedKvWrite[];
  summary: BuildSummary;
}

/** Pure: no I/O, no clock, no randomness (certificates are issued before, see certs.ts). */
export function planBuild(input: BuildInput): BuildPlan {
  const { workspace: ws, state, now } = input;
  const placed = placeJobs(ws);
  const { plan: catalog, counts, changes, target } = planCatalog(ws, placed, state.catalog, now);
  const desired = desiredKv(ws, placed, target, { bucketId: state.catalog.bucketId, caCertPem: input.caCertPem, certs: input.certs });

  const preserved = new Set<string>();
  const totals = { workers: target.workers.length, jobs: target.jobs.length, active: 0, disabled: 0, removed: 0 };
  for (const a of target.allocations.values()) {
    if (a.removed) {
      preserved.add(NS.allocation(a.job, a.worker_ip));
      totals.removed++;
    } else if (a.disabled) totals.disabled++;
    else totals.active++;
  }
  const kv = diffKv({ desired, latest: state.kv, preserved, jobs: new Set(ws.jobs.map((j) => j.name)), now });
  return {
    now,
    catalog,
    kv: kv.writes,
    summary: { ...counts, totals, kv: { written: kv.written, tombstoned: kv.tombstoned }, changes, workersBefore: state.catalog.workers.length },
  };
}

export function isNoOp(plan: BuildPlan): boolean {
  return plan.kv.length === 0 && Object.values(plan.catalog).every((rows: unknown[]) => rows.length === 0);
}

/**
 * Why a build must not go ahead without the operator's --yes: it would remove more than half
 * of the non-removed allocations, or every worker (a typo'd host or an emptied workers.json
 * would otherwise stop everything at the next deploy). undefined when it is safe.
 */
export function destructiveReason(summary: BuildSummary): string | undefined {
  const { changes } = summary;
  if (summary.workersBefore > 0 && summary.totals.workers === 0) {
    return `it removes every worker (${summary.workersBefore} in the catalog, none in workspace/workers.json) and so all ${changes.before} allocations`;
  }
  if (changes.before > 0 && changes.removed.length * 2 > changes.before) {
    return `it removes ${changes.removed.length} of ${changes.before} allocations (${changes.removed.slice(0, 5).join(", ")}${changes.removed.length > 5 ? ", ..." : ""})`;
  }
  return undefined;
}
