import type { DisabledSpec } from "./model.js";
import type { FileProblems } from "./problems.js";
import { indexPath, keyPath } from "./json-path.js";
import { didYouMean, readObject } from "./fields.js";
import { hostKey } from "./hosts.js";

export const DISABLED_FIELDS = ["jobs", "workers"] as const;
export const DISABLED_JOB_FIELDS = ["allocations"] as const;

/**
 * disabled.json. An entry naming a job or worker that is no longer in the workspace is a
 * warning, not an error, as in the original: the drain flow is disable, deploy, then remove the
 * worker (or job), and the stale entry must not block that build. The warning names the closest
 * known job, so a typo is still visible. `hosts` maps hostKey(host) -> host, so a worker may be
 * named in any spelling of its address.
 */
export function parseDisabled(p: FileProblems, doc: unknown, jobs: ReadonlySet<string>, hosts: ReadonlyMap<string, string>): DisabledSpec {
  const spec: DisabledSpec = { jobs: {}, workers: [] };
  const obj = readObject(p, doc, "$", DISABLED_FIELDS, 'an object like {"jobs": {"api": {}}, "workers": ["10.0.0.3"]}');
  if (!obj) return spec;
  if (obj.jobs !== undefined && obj.jobs !== null) {
    const byJob = readObject(p, obj.jobs, "$.jobs", undefined, 'an object like {"api": {}} or {"api": {"allocations": ["10.0.0.2"]}}');
    for (const [job, body] of Object.entries(byJob ?? {})) {
      const at = keyPath("$.jobs", job);
      if (!jobs.has(job)) p.warn(at, `is not a job in workspace/jobs/ (ignored)${didYouMean(job, jobs)}`, job);
      const entry = readObject(p, body, at, DISABLED_JOB_FIELDS, '{} (the whole job) or {"allocations": ["10.0.0.2"]}');
      if (!entry || !jobs.has(job)) continue;
      if (entry.allocations === undefined || entry.allocations === null) spec.jobs[job] = "all";
      else {
        const list = parseHosts(p, entry.allocations, keyPath(at, "allocations"), hosts);
        if (list) spec.jobs[job] = list;
      }
    }
  }
  if (obj.workers !== undefined && obj.workers !== null) spec.workers = parseHosts(p, obj.workers, "$.workers", hosts) ?? [];
  return spec;
}

function parseHosts(p: FileProblems, value: unknown, at: string, hosts: ReadonlyMap<string, string>): string[] | undefined {
  if (!Array.isArray(value) || value.length === 0) {
    p.add(at, 'expected a non-empty array of worker hosts like ["10.0.0.2"]', value);
    return undefined;
  }
  const list: string[] = [];
  value.forEach((host, i) => {
    if (typeof host !== "string" || host === "") {
      p.add(indexPath(at, i), "expected a worker host string", host);
      return;
    }
    const known = hosts.get(hostKey(host));
    if (known === undefined) p.warn(indexPath(at, i), "is not a worker in workspace/workers.json (ignored)", host);
    else if (!list.includes(known)) list.push(known);
  });
  return list;
}
