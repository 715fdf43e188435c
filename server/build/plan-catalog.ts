import type { Workspace } from "../workspace/model.js";
import type { JobPlacements } from "./allocate.js";
import { allocationId, jobId, workerId } from "./ids.js";
import type { CatalogSnapshot, SnapshotAllocation, SnapshotHook, SnapshotJob, SnapshotWorker } from "../store/catalog-snapshot.js";
import type { CatalogPlan } from "../store/catalog-write.js";

export type { CatalogPlan } from "../store/catalog-write.js";

export interface CatalogCounts {
  workers: { added: number; removed: number; changed: number };
  jobs: { added: number; removed: number; changed: number };
  allocations: { added: number; removed: number; changed: number; restored: number; disabled: number; enabled: number; version_changed: number };
}

/** Which allocations (as `job@worker`) a build adds, removes, disables, re-enables or moves to a new version. */
export interface AllocationChanges {
  added: string[];
  removed: string[];
  restored: string[];
  disabled: string[];
  enabled: string[];
  version_changed: string[];
  /** Non-removed allocations before the build: what "removes more than half" is measured against. */
  before: number;
}

/** The catalog as the workspace wants it, with IDs kept from the snapshot where rows exist. */
export interface CatalogTarget {
  workers: SnapshotWorker[];
  jobs: SnapshotJob[];
  /** Every allocation row after the build, removed ones included; by `job|ip`. */
  allocations: Map<string, SnapshotAllocation>;
}

const key = (...parts: string[]): string => parts.join("\0");

export function planCatalog(ws: Workspace, placed: JobPlacements[], snap: CatalogSnapshot, now: number): {
  plan: CatalogPlan;
  counts: CatalogCounts;
  changes: AllocationChanges;
  target: CatalogTarget;
} {
  const counts: CatalogCounts = {
    workers: { added: 0, removed: 0, changed: 0 },
    jobs: { added: 0, removed: 0, changed: 0 },
    allocations: { added: 0, removed: 0, changed: 0, restored: 0, disabled: 0, enabled: 0, version_changed: 0 },
  };
  const changes: AllocationChanges = {
    added: [],
    removed: [],
    restored: [],
    disabled: [],
    enabled: [],
    version_changed: [],
    before: snap.allocations.filter((a) => !a.removed).length,
  };
  const plan: CatalogPlan = {
    upsertWorkers: [],
    deleteWorkers: [],
    upsertJobs: [],
    deleteJobs: [],
    upsertHooks: [],
    deleteHooks: [],
    upsertJobFiles: [],
    deleteJobFiles: [],
    upsertAllocations: [],
    insertHashes: [],
  };

  // workers
  const oldWorkers = new Map(snap.workers.map((w) => [w.worker_ip, w]));
  const workers: SnapshotWorker[] = ws.workers.map((w) => {
    const old = oldWorkers.get(w.host);
    const row: SnapshotWorker = {
      worker_id: old?.worker_id ?? workerId(w.host),
      worker_ip: w.host,
      hostname: w.hostname,
      position: w.position,
      memory_mb: w.memoryMb,
      cpu_mhz: w.cpuMhz,
      tags: JSON.stringify(w.tags),
      labels: [...new Set(w.labels)].sort(),
    };
    if (!old) counts.workers.added++;
    else if (!sameWorker(old, row)) counts.workers.changed++;
    if (!old || !sameWorker(old, row)) plan.upsertWorkers.push(row);
    oldWorkers.delete(w.host);
    return row;
  });
  for (const gone of oldWorkers.values()) {
    plan.deleteWorkers.push(gone.worker_id);
    counts.workers.removed++;
  }

  // jobs, hooks, files
  const oldJobs = new Map(snap.jobs.map((j) => [j.name, j]));
  const jobs: SnapshotJob[] = ws.jobs.map((j) => {
    const old = oldJobs.get(j.name);
    const row: SnapshotJob = {
      job_id: old?.job_id ?? jobId(j.name),
      name: j.name,
      version: j.version,
      selectors: JSON.stringify(j.selectors),
      max_concurrent_upgrades: j.maxConcurrentUpgrades,
      max_concurrent_starts: j.maxConcurrentStarts,
      restart_policy: j.restartPolicy,
      deployment_seq: j.deploymentSeq,
      manifest: JSON.stringify(j.manifest),
      health_check: j.healthCheck ? JSON.stringify(j.healthCheck) : "",
    };
    if (!old) counts.jobs.added++;
    else if (!sameRow(old, row)) counts.jobs.changed++;
    if (!old || !sameRow(old, row)) plan.upsertJobs.push(row);
    oldJobs.delete(j.name);
    return row;
  });
  for (const gone of oldJobs.keys()) {
    plan.deleteJobs.push(gone);
    counts.jobs.removed++;
  }
  planHooks(ws, snap, plan);
  planJobFiles(ws, snap, plan);

  // allocations
  const allocations = planAllocations(placed, snap, now, plan, counts, changes);
  return { plan, counts, changes, target: { workers, jobs, allocations } };
}

function planHooks(ws: Workspace, snap: CatalogSnapshot, plan: CatalogPlan): void {
  const old = new Map(snap.hooks.map((h) => [key(h.job, h.hook, h.event), h]));
  for (const job of ws.jobs) {
    for (const hook of job.hooks) {
      for (const event of new Set(hook.executedOn)) {
        const row: SnapshotHook = {
          job: job.name,
          hook: hook.name,
          event,
          script: hook.script,
          timeout_seconds: hook.timeoutSeconds,
          demand_job: hook.demands?.job ?? null,
          demand_hook: hook.demands?.hook ?? null,
          demand_config: hook.demands ? JSON.stringify(hook.demands.config) : null,
        };
        const k = key(job.name, hook.name, event);
        const prev = old.get(k);
        if (!prev || !sameRow(prev, row)) plan.upsertHooks.push(row);
        old.delete(k);
      }
    }
  }
  for (const h of old.values()) plan.deleteHooks.push({ job: h.job, hook: h.hook, event: h.event });
}

/** Only changed files are written: content is the bulk of the catalog and rarely changes. */
function planJobFiles(ws: Workspace, snap: CatalogSnapshot, plan: CatalogPlan): void {
  const old = new Map(snap.jobFiles.map((f) => [key(f.job, f.path), f]));
  for (const job of ws.jobs) {
    for (const f of job.files) {
      const k = key(job.name, f.path);
      const prev = old.get(k);
      if (!prev || prev.hash !== f.hash || prev.mode !== f.mode) {
        plan.upsertJobFiles.push({ job: job.name, path: f.path, mode: f.mode, hash: f.hash, content: f.content });
      }
      old.delete(k);
    }
  }
  for (const f of old.values()) plan.deleteJobFiles.push({ job: f.job, path: f.path });
}

function planAllocations(
  placed: JobPlacements[],
  snap: CatalogSnapshot,
  now: number,
  plan: CatalogPlan,
  counts: CatalogCounts,
  changes: AllocationChanges,
): Map<string, SnapshotAllocation> {
  const note = (list: keyof Omit<AllocationChanges, "before">, a: { job: string; worker_ip: string }) => {
    changes[list].push(`${a.job}@${a.worker_ip}`);
    counts.allocations[list]++;
  };
  const result = new Map<string, SnapshotAllocation>();
  const old = new Map(snap.allocations.map((a) => [key(a.job, a.worker_ip), a]));
  const hashIds = new Set(snap.hashIds);
  for (const { job, placements } of placed) {
    for (const p of placements) {
      const k = key(p.job, p.workerIp);
      const prev = old.get(k);
      const row: SnapshotAllocation = {
        alloc_id: prev?.alloc_id ?? allocationId(p.job, p.workerIp),
        job: p.job,
        worker_ip: p.workerIp,
        disabled: p.disabled ? 1 : 0,
        removed: 0,
        deployment_seq: job.deploymentSeq,
        new_version: job.version,
        removed_at: null,
      };
      if (!prev) note("added", row);
      else if (prev.removed) note("restored", row);
      else if (!sameRow(prev, row)) {
        counts.allocations.changed++;
        if (!prev.disabled && row.disabled) note("disabled", row);
        if (prev.disabled && !row.disabled) note("enabled", row);
        if (prev.new_version !== row.new_version) note("version_changed", row);
      }
      if (!prev || !sameRow(prev, row)) plan.upsertAllocations.push(row);
      if (!hashIds.has(row.alloc_id)) plan.insertHashes.push(row.alloc_id);
      result.set(k, row);
      old.delete(k);
    }
  }
  // Whatever the workspace no longer asks for is kept, marked removed, until gc.
  for (const [k, prev] of old) {
    if (prev.removed) {
      result.set(k, prev);
      continue;
    }
    const row = { ...prev, removed: 1, removed_at: now };
    plan.upsertAllocations.push(row);
    note("removed", row);
    result.set(k, row);
  }
  return result;
}

function sameWorker(a: SnapshotWorker, b: SnapshotWorker): boolean {
  return sameRow({ ...a, labels: a.labels.join(",") }, { ...b, labels: b.labels.join(",") });
}

function sameRow<T extends object>(a: T, b: T): boolean {
  for (const k of Object.keys(b) as (keyof T)[]) if (a[k] !== b[k]) return false;
  return true;
}

