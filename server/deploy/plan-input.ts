import { bucketId, hasJobFile, jobHealthCheck, listAllocations, listJobFileHashes, listHooks, listJobs, type HookRow } from "../store/catalog.js";
import { listDeployedJobFileHashes, listDeployedJobs, readDeployStates, type DeployStateRow } from "../store/deploy-state.js";
import { interpreterResolver, type InterpreterResolver } from "../hooks/interpreters.js";
import type { PlanSource } from "../hooks/plan-input.js";
import { MaandError } from "../errors.js";
import { NS, ROLLOUT_ORDER_KEY } from "../kv/namespaces.js";
import { checkLabel } from "../health/plan.js";
import { escapeText } from "../text/escape.js";
import type { KvReader } from "../store/kv.js";
import type { RestartPolicy } from "../workspace/model.js";
import { contentHash, isSyncedPath, UNRENDERED_HASH, type HashedFile } from "./content.js";
import { DEPLOY_EVENTS, planJob } from "./plan.js";
import type { AllocationInput, DeployPlanInput, DeployRequest, JobHookInput, JobInput } from "./plan-types.js";
import { jobSyncFiles, stageAllocation, withCerts, type RenderStep } from "./stage.js";
import { allocationCertFiles } from "../certs/staged.js";
import { hasTemplates } from "./template-files.js";
import { TemplateRenderFailed, type TemplateProblem } from "./template-errors.js";

export interface DeployInputOptions {
  /** One resolver per command: each interpreter is probed once, not once per job and event. */
  resolver?: InterpreterResolver;
  /** Renders templated jobs (render-step.ts), so their hash is the rendered output's, as apply's is. */
  render: RenderStep;
}

const DEPLOY_EVENT_SET: ReadonlySet<string> = new Set(DEPLOY_EVENTS);

/**
 * Reads what planDeploy needs: the catalog's jobs, allocations (removed ones included) and
 * deploy state, the content hash each allocation would get (job files with templates rendered
 * + its certs from KV), deploy-event hooks with their interpreters, rollout orders; plus, for
 * jobs that left the workspace but still have allocations on workers, their last deployed
 * snapshot.
 */
export function loadDeployInput(source: PlanSource, request: DeployRequest, options: DeployInputOptions): DeployPlanInput {
  const { db, kv, paths } = source;
  const resolver = options.resolver ?? interpreterResolver({ jobsDir: paths.jobs });
  const states = readDeployStates(db);
  const allocations = listAllocations(db, { includeRemoved: true });
  const catalogJobs = listJobs(db);
  const snapshots = new Map(listDeployedJobs(db).map((j) => [j.job, j]));
  const known = new Set([...catalogJobs.map((j) => j.name), ...allocations.filter((a) => snapshots.has(a.job)).map((a) => a.job)]);
  const wanted = request.jobs?.length ? request.jobs : undefined;
  const unknown = (wanted ?? []).filter((j) => !known.has(j));
  if (unknown.length) throw new MaandError(`--jobs ${escapeText(unknown.join(","))}: unknown job${unknown.length === 1 ? "" : "s"} (known: ${[...known].sort().join(", ") || "none"}); run 'maand build' if it was added to the workspace`);
  const selected = (job: string) => !wanted || wanted.includes(job);

  const jobs: JobInput[] = [];
  for (const j of catalogJobs) {
    if (!selected(j.name)) continue;
    const files = listJobFileHashes(db, j.name).filter((f) => isSyncedPath(f.path));
    const templateErrors: TemplateProblem[] = [];
    const hashOf = hasTemplates(files) ? renderedHashes(source, j.name, options.render, templateErrors) : fileHashes(kv, j.name, files);
    const hooks = listHooks(db, { job: j.name }).filter((h) => DEPLOY_EVENT_SET.has(h.event));
    jobs.push({
      job: j.name,
      version: j.version,
      deployment_seq: j.deployment_seq,
      restart_policy: j.restart_policy as RestartPolicy,
      max_concurrent_upgrades: j.max_concurrent_upgrades,
      max_concurrent_starts: j.max_concurrent_starts,
      removed_job: false,
      hooks: hooks.map((h) => unresolved(h)),
      health_checks: (jobHealthCheck(db, j.name)?.checks ?? []).map(checkLabel),
      rollout_order: kv.get(NS.job(j.name), ROLLOUT_ORDER_KEY),
      allocations: allocations
        .filter((a) => a.job === j.name)
        .map((a) => allocationInput(a, states.get(a.alloc_id), a.removed ? "" : hashOf(a))),
      ...(templateErrors.length ? { template_errors: templateErrors } : {}),
    });
  }
  // Jobs that left the workspace: build deleted their rows; the snapshot stops them.
  const inCatalog = new Set(catalogJobs.map((j) => j.name));
  for (const snap of snapshots.values()) {
    if (inCatalog.has(snap.job) || !selected(snap.job)) continue;
    const allocs = allocations.filter((a) => a.job === snap.job);
    if (!allocs.length) continue;
    const hooks = (JSON.parse(snap.hooks) as HookRow[]).filter((h) => h.event === "after_allocation_stopped");
    jobs.push({
      job: snap.job,
      version: snap.version,
      deployment_seq: snap.deployment_seq,
      restart_policy: snap.restart_policy as RestartPolicy,
      max_concurrent_upgrades: snap.max_concurrent_upgrades,
      max_concurrent_starts: 0,
      removed_job: true,
      hooks: hooks.map((h) => unresolved(h)),
      // Only stops remain for it: nothing to probe.
      health_checks: [],
      rollout_order: undefined,
      allocations: allocs.map((a) => allocationInput(a, states.get(a.alloc_id), "")),
    });
  }
  // Interpreters are resolved (one probe each, memoised) only for jobs the deploy will run:
  // a no-change deploy spawns nothing.
  for (const job of jobs) {
    if (!job.hooks.length || !planJob(job, request).needs_work) continue;
    const has = job.removed_job ? new Set(listDeployedJobFileHashes(db, job.job).map((f) => f.path)) : undefined;
    job.hooks = job.hooks.map((h) => resolved(h, job.job, resolver, (p) => (has ? has.has(p) : hasJobFile(db, job.job, p))));
  }
  jobs.sort((a, b) => a.deployment_seq - b.deployment_seq || (a.job < b.job ? -1 : a.job > b.job ? 1 : 0));
  return { request, bucket_id: bucketId(db), jobs };
}

function allocationInput(
  a: { alloc_id: string; worker_ip: string; disabled: number; removed: number; position: number },
  s: DeployStateRow | undefined,
  newHash: string,
): AllocationInput {
  return {
    alloc_id: a.alloc_id,
    worker_ip: a.worker_ip,
    disabled: a.disabled !== 0,
    removed: a.removed !== 0,
    position: a.position,
    current_hash: s?.current_hash ?? "",
    current_version: s?.current_version ?? "0.0.0",
    running: (s?.running ?? 0) !== 0,
    synced_hash: s?.synced_hash ?? "",
    applied_hash: s?.applied_hash ?? "",
    applied_version: s?.applied_version ?? "",
    cleaned: (s?.cleaned ?? 0) !== 0,
    new_hash: newHash,
  };
}

function unresolved(h: HookRow): JobHookInput {
  return { hook: h.hook, event: h.event, script: h.script, timeout_seconds: h.timeout_seconds, interpreter: { path: "" } };
}

function resolved(h: JobHookInput, job: string, resolver: InterpreterResolver, hasScript: (path: string) => boolean): JobHookInput {
  const problems: string[] = [];
  if (!hasScript(h.script)) problems.push(`script ${h.script} is not in the built job files; run 'maand build'`);
  const r = resolver.resolve(job, h.script);
  if ("problem" in r) problems.push(r.problem);
  return { ...h, interpreter: problems.length ? { problems } : { path: "path" in r ? r.path : "" } };
}

type AllocationHash = (a: { alloc_id: string; worker_ip: string }) => string;

/** A job without templates: its files' hashes, plus the allocation's certs where it has any. */
function fileHashes(kv: KvReader, job: string, files: readonly HashedFile[]): AllocationHash {
  // Most allocations carry no certs: their hash is the job's, computed once.
  const jobHash = contentHash(files);
  return (a) => {
    const certs = allocationCertFiles(kv, job, a.worker_ip).map((f) => ({ path: f.path, mode: f.mode, hash: f.hash }));
    return certs.length ? contentHash(withCerts(files, certs)) : jobHash;
  };
}

/**
 * A templated job: staged and rendered as apply will (committed KV; apply renders again after
 * pre_deploy and replans). An allocation that fails to render is recorded and planned as
 * changed, so the job's pre_deploy hooks still run: they may write what the template lacks.
 */
function renderedHashes(source: PlanSource, job: string, render: RenderStep, errors: TemplateProblem[]): AllocationHash {
  const files = jobSyncFiles(source.db, job);
  return (a) => {
    try {
      return stageAllocation({ kv: source.kv, render }, job, a, files).hash;
    } catch (err) {
      if (!(err instanceof TemplateRenderFailed)) throw err;
      errors.push(err.details());
      return UNRENDERED_HASH;
    }
  };
}
