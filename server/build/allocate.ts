import type { JobSpec, Workspace, WorkerSpec } from "../workspace/model.js";

/** One (job x worker) pair the workspace asks for, with its disabled flag. */
export interface Placement {
  job: string;
  workerIp: string;
  disabled: boolean;
  /** Index among the job's non-removed allocations, in catalog order. */
  index: number;
}

export interface JobPlacements {
  job: JobSpec;
  /** Catalog order. Every allocation the workspace asks for is non-removed. */
  placements: Placement[];
  /** Workers of the active (non-disabled) placements, catalog order. */
  activeWorkers: string[];
}

/**
 * Label matching (SPEC §5): a job lands on every worker carrying ALL its selectors;
 * disabled.json disables a whole job, some of its allocations, or everything on a worker.
 */
export function placeJobs(ws: Workspace): JobPlacements[] {
  const workers = [...ws.workers].sort((a, b) => a.position - b.position);
  const labelSets = new Map<WorkerSpec, Set<string>>(workers.map((w) => [w, new Set(w.labels)]));
  const disabledWorkers = new Set(ws.disabled.workers);
  return ws.jobs.map((job) => {
    const rule = ws.disabled.jobs[job.name];
    const disabledIps = rule === undefined || rule === "all" ? undefined : new Set(rule);
    const placements: Placement[] = [];
    for (const w of workers) {
      const labels = labelSets.get(w)!;
      if (!job.selectors.every((s) => labels.has(s))) continue;
      const disabled = rule === "all" || disabledWorkers.has(w.host) || (disabledIps?.has(w.host) ?? false);
      placements.push({ job: job.name, workerIp: w.host, disabled, index: placements.length });
    }
    return { job, placements, activeWorkers: placements.filter((p) => !p.disabled).map((p) => p.workerIp) };
  });
}
