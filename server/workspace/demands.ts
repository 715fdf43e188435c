import type { HookSpec } from "./model.js";
import type { Problems } from "./problems.js";
import { keyPath } from "./json-path.js";
import { didYouMean } from "./fields.js";
import { compareVersions } from "./version.js";
import { orderByDemands } from "./deployment-seq.js";

/** What the cross-job checks need to know about a job whose manifest parsed. */
export interface DemandingJob {
  name: string;
  /** manifest.json relative to the bucket root. */
  file: string;
  version: string;
  versionDeclared: boolean;
  versionValid: boolean;
  hooks: HookSpec[];
}

/**
 * Checks every demand against its upstream job (exists, defines the hook, version in range,
 * both versions declared, no cycles) and returns each job's deployment_seq.
 * `allJobs` also holds jobs whose manifest failed, so they are not called unknown.
 */
export function checkDemands(problems: Problems, jobs: ReadonlyMap<string, DemandingJob>, allJobs: ReadonlySet<string>): Map<string, number> {
  const upstreams = new Map<string, string[]>();
  const undeclared = new Map<string, string>();
  for (const job of jobs.values()) {
    const ups: string[] = [];
    for (const hook of job.hooks) {
      const d = hook.demands;
      if (!d) continue;
      const at = keyPath(keyPath("$.hooks", hook.name), "demands");
      if (!allJobs.has(d.job)) {
        problems.add(job.file, keyPath(at, "job"), `expected a job in workspace/jobs/${didYouMean(d.job, allJobs)}`, d.job);
        continue;
      }
      if (!ups.includes(d.job)) ups.push(d.job);
      const up = jobs.get(d.job);
      if (!up) continue; // its manifest is broken and already reported
      if (!up.hooks.some((h) => h.name === d.hook)) {
        const defined = up.hooks.map((h) => h.name);
        const has = defined.length ? `${d.job} defines ${defined.join(", ")}` : `${d.job} defines no hooks`;
        problems.add(job.file, keyPath(at, "hook"), `expected a hook defined by job ${d.job} (${has})${didYouMean(d.hook, defined)}`, d.hook);
      }
      if (!job.versionDeclared && !undeclared.has(job.name)) undeclared.set(job.name, `${hook.name} demands ${d.job}`);
      if (!up.versionDeclared && !undeclared.has(up.name)) undeclared.set(up.name, `${job.name}.${hook.name} demands it`);
      if (up.versionDeclared && up.versionValid) checkRange(problems, job.file, keyPath(at, "config"), d.config, up);
    }
    upstreams.set(job.name, ups);
  }
  for (const [name, why] of undeclared) {
    problems.add(jobs.get(name)!.file, "$.version", `is missing; expected an explicit version because ${why} (jobs in a demand relation must declare one)`);
  }
  const names = [...jobs.keys()];
  const { seq, cycles } = orderByDemands(names, upstreams);
  for (const cycle of cycles) reportCycle(problems, jobs, cycle);
  return seq;
}

function checkRange(problems: Problems, file: string, at: string, config: Record<string, unknown>, up: DemandingJob): void {
  const min = config.min_version as string | undefined;
  const max = config.max_version as string | undefined;
  if (min && compareVersions(up.version, min) < 0) {
    problems.add(file, keyPath(at, "min_version"), `is above job ${up.name}'s version ${up.version}; expected ${up.name} to be >= min_version`, min);
  }
  if (max && compareVersions(up.version, max) > 0) {
    problems.add(file, keyPath(at, "max_version"), `is below job ${up.name}'s version ${up.version}; expected ${up.name} to be <= max_version`, max);
  }
}

/** Reported on the first job's demand that leads into the cycle, naming the whole loop. */
function reportCycle(problems: Problems, jobs: ReadonlyMap<string, DemandingJob>, cycle: string[]): void {
  const [from, to] = cycle;
  const job = jobs.get(from)!;
  const hook = job.hooks.find((h) => h.demands?.job === to)!;
  const at = keyPath(keyPath(keyPath("$.hooks", hook.name), "demands"), "job");
  problems.add(job.file, at, `closes a demand cycle ${cycle.join(" -> ")}; expected hook demands without cycles`, to);
}
