import type { BucketPaths } from "../bucket/paths.js";
import { hasJobFile, listAllocations, listHooks, listJobs } from "../store/catalog.js";
import { interpreterResolver, type InterpreterResolver } from "./interpreters.js";
import type { Db } from "../store/db.js";
import type { KvReader } from "../store/kv.js";
import type { HookEvent } from "../workspace/model.js";
import type { HookPlanInput, HookRunRequest, PlanHook } from "./plan-types.js";
import { NS, ROLLOUT_ORDER_KEY } from "../kv/namespaces.js";

/** What reading a plan's input needs: the catalog, a KV reader and the bucket's paths. */
export interface PlanSource {
  db: Db;
  kv: KvReader;
  paths: BucketPaths;
}

export interface PlanInputOptions {
  /** Finds each hook's interpreter (tests point it at a PATH of their own). */
  resolver?: InterpreterResolver;
}

/**
 * Reads what planHookRun needs from the catalog and KV, and resolves each hook's interpreter
 * (memoised for the call). `kv` is the session's reader, so a rollout_order written by an
 * earlier hook of the same session is honoured.
 */
export function loadHookPlanInput(source: PlanSource, request: HookRunRequest, options: PlanInputOptions = {}): HookPlanInput {
  const { db, kv, paths } = source;
  const bucketRoot = paths.root;
  const resolver = options.resolver ?? interpreterResolver({ jobsDir: paths.jobs });
  const names = [...new Set(request.targets.map((t) => t.job))];
  const jobs = listJobs(db)
    .filter((j) => names.includes(j.name))
    .map((j) => ({
      name: j.name,
      version: j.version,
      maxConcurrentUpgrades: j.max_concurrent_upgrades,
      maxConcurrentStarts: j.max_concurrent_starts,
      deploymentSeq: j.deployment_seq,
    }));
  const allocations = names.length ? planAllocations(db, names) : [];
  const hooks = listHooks(db, { event: request.event })
    .filter((h) => names.includes(h.job))
    .map((h) => ({ job: h.job, hook: h.hook, event: h.event, script: h.script, timeoutSeconds: h.timeout_seconds, interpreter: interpreterOf(db, resolver, h.job, h.script) }));
  const rolloutOrders: Record<string, string | undefined> = {};
  for (const job of names) rolloutOrders[job] = kv.get(NS.job(job), ROLLOUT_ORDER_KEY);
  return { request, bucketRoot, jobs, allocations, hooks, rolloutOrders };
}

function interpreterOf(db: Db, resolver: InterpreterResolver, job: string, script: string): PlanHook["interpreter"] {
  const problems: string[] = [];
  if (!hasJobFile(db, job, script)) problems.push(`script ${script} is not in the built job files; run 'maand build'`);
  const r = resolver.resolve(job, script);
  if ("problem" in r) return { problems: [...problems, r.problem] };
  return problems.length ? { problems } : { path: r.path };
}

/** Every (job, hook) registered for an event, upstream jobs first (deployment_seq), then by name. */
/** The allocations of `jobs` as a hook plan sees them, removed ones included (their hooks may still run). */
export function planAllocations(db: Db, jobs: readonly string[]): HookPlanInput["allocations"] {
  return listAllocations(db, { jobs, includeRemoved: true }).map((a) => ({
    allocId: a.alloc_id,
    job: a.job,
    workerIp: a.worker_ip,
    disabled: a.disabled !== 0,
    removed: a.removed !== 0,
    position: a.position,
    currentVersion: a.current_version,
  }));
}

export function hookTargets(db: Db, event: HookEvent, filter: { job?: string; hook?: string } = {}): Array<{ job: string; hook: string }> {
  return listHooks(db, { event, ...filter }).map((h) => ({ job: h.job, hook: h.hook }));
}
