import { join, relative, sep } from "node:path";
import type { BucketPaths } from "../bucket/paths.js";
import type { MaandConf } from "../bucket/conf.js";
import type { JobSpec, Vars, Workspace, WorkerSpec, DisabledSpec } from "./model.js";
import { Problems } from "./problems.js";
import { readJson, readText } from "./source-file.js";
import { parseWorkers } from "./workers.js";
import { hostKey } from "./hosts.js";
import { listJobDirs } from "./job-dirs.js";
import { readJob, type JobRead } from "./job.js";
import { bucketGuard } from "./bucket-guard.js";
import { checkDemands, type DemandingJob } from "./demands.js";
import { parseDisabled } from "./disabled.js";
import { bucketJobsConfName, parseToml, toJobVars, toVars } from "./toml-vars.js";

/**
 * Reads and validates the whole workspace. Every problem in every file is collected first and
 * thrown together as one WorkspaceValidationError, so nothing is built from a half-valid tree.
 */
export function readWorkspace(paths: BucketPaths, conf: MaandConf): Workspace {
  const problems = new Problems();
  const rel = (abs: string) => relative(paths.root, abs).split(sep).join("/");

  const workers = readWorkers(problems, paths.workersJson, rel(paths.workersJson));
  const jobNames = listJobDirs(problems.in(rel(paths.jobs)), paths.jobs);
  const guard = bucketGuard(paths);
  const reads = jobNames.map((name) => readJob(problems, paths.jobs, rel(paths.jobs), name, guard));
  const allJobs = new Set(jobNames);
  const seq = checkDemands(problems, demandingJobs(reads), allJobs);

  const hosts = new Map(workers.filter((w) => w.host).map((w) => [hostKey(w.host), w.host]));
  const disabled = readDisabled(problems, paths.disabledJson, rel(paths.disabledJson), allJobs, hosts);
  const bucketVars = readVarsFile(problems, paths.bucketConf, rel(paths.bucketConf));
  const jobsConf = join(paths.workspace, bucketJobsConfName(conf.job_config_selector));
  const bucketJobVars = readJobVarsFile(problems, jobsConf, rel(jobsConf), allJobs);

  problems.throwIfAny();
  const jobs = reads.map((r) => toJobSpec(r, seq.get(r.name) ?? 0));
  return {
    workers,
    jobs,
    disabled,
    bucketVars,
    bucketJobVars: Object.fromEntries(jobNames.map((n) => [n, bucketJobVars[n] ?? {}])),
    jobVars: Object.fromEntries(reads.map((r) => [r.name, r.vars])),
    warnings: problems.warnings,
  };
}

function readWorkers(problems: Problems, abs: string, file: string): WorkerSpec[] {
  const p = problems.in(file);
  const doc = readJson(p, abs);
  if (doc.status === "missing") p.add("$", "is missing; expected a JSON array of workers (at least [])");
  return doc.status === "ok" ? parseWorkers(p, doc.value) : [];
}

function demandingJobs(reads: JobRead[]): Map<string, DemandingJob> {
  const jobs = new Map<string, DemandingJob>();
  for (const r of reads) {
    if (!r.manifest) continue;
    const { version, versionDeclared, versionValid, hooks } = r.manifest;
    jobs.set(r.name, { name: r.name, file: `${r.dir}/manifest.json`, version, versionDeclared, versionValid, hooks });
  }
  return jobs;
}

function readDisabled(problems: Problems, abs: string, file: string, jobs: ReadonlySet<string>, hosts: ReadonlyMap<string, string>): DisabledSpec {
  const p = problems.in(file);
  const doc = readJson(p, abs);
  return doc.status === "ok" ? parseDisabled(p, doc.value, jobs, hosts) : { jobs: {}, workers: [] };
}

function readVarsFile(problems: Problems, abs: string, file: string): Vars {
  const p = problems.in(file);
  const text = readText(p, abs);
  const table = text.status === "ok" ? parseToml(p, text.text) : undefined;
  return table ? toVars(table) : {};
}

function readJobVarsFile(problems: Problems, abs: string, file: string, jobs: ReadonlySet<string>): Record<string, Vars> {
  const p = problems.in(file);
  const text = readText(p, abs);
  const table = text.status === "ok" ? parseToml(p, text.text) : undefined;
  return table ? toJobVars(p, table, jobs) : {};
}

/** Only called once there are no problems, so every manifest is present. */
function toJobSpec(r: JobRead, deploymentSeq: number): JobSpec {
  const m = r.manifest!;
  return {
    name: r.name,
    version: m.version,
    selectors: m.selectors,
    maxConcurrentUpgrades: m.maxConcurrentUpgrades,
    maxConcurrentStarts: m.maxConcurrentStarts,
    restartPolicy: m.restartPolicy,
    hooks: m.hooks,
    ...(m.healthCheck ? { healthCheck: m.healthCheck } : {}),
    certs: m.certs,
    deploymentSeq,
    manifest: m.raw,
    files: r.files,
  };
}
