import type { Workspace } from "../workspace/model.js";
import { placeJobs } from "./allocate.js";
import { desiredKv, type CertValues } from "./kv-desired.js";
import { diffKv, type VersionedKvWrite } from "./kv-diff.js";
import { planCatalog, type CatalogCounts, type CatalogPlan } from "./plan-catalog.js";
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
  const { plan: catalog, counts, target } = planCatalog(ws, placed, state.catalog, now);
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
    summary: { ...counts, totals, kv: { written: kv.written, tombstoned: kv.tombstoned } },
  };
}

export function isNoOp(plan: BuildPlan): boolean {
  return plan.kv.length === 0 && Object.values(plan.catalog).every((rows: unknown[]) => rows.length === 0);
}
