import { isIP } from "node:net";
import { openBucket } from "../../server/bucket/context.js";
import { STALE_FIX, warnIfStale } from "../../server/build/stale.js";
import { UsageError } from "../../server/errors.js";
import { commandLine, JobControlFailed, JobControlInterrupted, planJobControlFor, runJobControl, type JobControlResult } from "../../server/jobcontrol/run.js";
import type { JobControlPlan } from "../../server/jobcontrol/plan.js";
import { readDeployStates } from "../../server/store/deploy-state.js";
import { canonicalHost } from "../../server/workspace/hosts.js";
import { isValidHost } from "../../server/workspace/names.js";
import { plainDeployProgress } from "../render/deploy-progress.js";
import { renderJson, renderTable } from "../render/table.js";
import type { BucketContext } from "../../server/bucket/context.js";
import type { HealthCheckReport } from "../../server/health/check.js";

interface ControlOptions {
  allocations?: string;
  target?: string;
  dryRun?: boolean;
  json?: boolean;
  verbose?: boolean;
  /** --health_check (start, restart, reload, run): commander keeps the underscore. */
  health_check?: boolean;
}

function parseAllocations(raw: string | undefined): string[] | undefined {
  if (raw === undefined) return undefined;
  const list = raw.split(",").map((s) => s.trim());
  if (!list.length || list.some((s) => !s || !(isIP(s) || isValidHost(s)))) {
    throw new UsageError(`--allocations ${JSON.stringify(raw)}: expected comma-separated worker addresses (e.g. 10.0.0.1,10.0.0.2)`);
  }
  return [...new Set(list.map(canonicalHost))];
}

/** `maand job start|stop|restart|reload <job>` and `maand job run <job> --target T`. */
async function control(bucket: string, job: string, target: string, opts: ControlOptions, readOnly = false): Promise<number> {
  const request = { job, target, allocations: parseAllocations(opts.allocations), allAtOnce: readOnly };
  if (opts.dryRun) {
    const ctx = openBucket(bucket, { readonly: true });
    try {
      const plan = planJobControlFor(ctx, request);
      const then = opts.health_check ? { jobs: [plan.job], allocations: healthTargets(plan) } : undefined;
      if (opts.json) console.log(renderJson({ plan, ...(then ? { health_check: then } : {}) }));
      else console.log(renderControlPlan(plan) + (then ? `\nthen: the health checks of job ${plan.job} on ${then.allocations.join(",") || "no allocation"} (probes with the manifest's wait, health_check hooks)` : ""));
      return 0;
    } finally {
      ctx.close();
    }
  }
  // status changes nothing in the catalog: it neither takes the lock nor waits for a deploy.
  const ctx = openBucket(bucket, { readonly: readOnly });
  try {
    if (!readOnly) warnIfStale(ctx, STALE_FIX.deploy);
    const plan = planJobControlFor(ctx, request);
    const reporter = readOnly && !opts.verbose ? undefined : plainDeployProgress(opts.json || readOnly ? process.stderr : process.stdout, opts.verbose ?? false);
    const result = await runJobControl(ctx, plan, { reporter, verbose: opts.verbose ?? false, readOnly });
    if (!opts.json) console.log(readOnly ? renderStatus(ctx, plan, result) : renderControlSummary(result));
    // Only after a job control that succeeded: a failed one is reported as such, not probed.
    const health = opts.health_check && result.status === "ok" ? await healthAfter(ctx, plan, opts.json ?? false) : undefined;
    if (opts.json) {
      console.log(renderJson({ plan, result, ...(readOnly ? { allocations: statusRows(ctx, plan, result) } : {}), ...(health ? { health: health.json } : {}) }));
    } else if (health) console.log(health.text);
    if (result.status === "interrupted") throw new JobControlInterrupted(result);
    if (result.status === "failed") throw new JobControlFailed(result);
    if (health?.failure) throw health.failure;
    return 0;
  } finally {
    ctx.close();
  }
}

export const start = (bucket: string, job: string, opts: ControlOptions) => control(bucket, job, "start", opts);
export const stop = (bucket: string, job: string, opts: ControlOptions) => control(bucket, job, "stop", opts);
export const restart = (bucket: string, job: string, opts: ControlOptions) => control(bucket, job, "restart", opts);
export const reload = (bucket: string, job: string, opts: ControlOptions) => control(bucket, job, "reload", opts);
export function run(bucket: string, job: string, opts: ControlOptions): Promise<number> {
  if (!opts.target) throw new UsageError("maand job run needs --target T (a Makefile target of the job)");
  return control(bucket, job, opts.target, opts);
}
/** `maand job status <job>`: the Makefile's status target (or job_control with TARGET=status) beside what the catalog says. */
export const status = (bucket: string, job: string, opts: ControlOptions) => control(bucket, job, "status", opts, true);

/**
 * --health_check: `maand health_check --jobs <job> --allocations <the plan's> --wait` after the
 * control (probes, then health_check hooks); its failure (exit 3, or 4 for an unreachable
 * worker) names each allocation and check.
 */
async function healthAfter(ctx: BucketContext, plan: JobControlPlan, json: boolean): Promise<{ json: unknown; text: string; failure?: Error }> {
  // Loaded only with --health_check: probes, hook progress and the report renderers.
  const [{ runHealthCheck, HealthCheckFailed }, { healthReportJson, renderHealthReport, probeLine }] = await Promise.all([
    import("../../server/health/check.js"),
    import("./health-check.js"),
  ]);
  const workers = healthTargets(plan);
  let report: HealthCheckReport;
  let failure: Error | undefined;
  try {
    report = await runHealthCheck(ctx, { jobs: [plan.job], workers, wait: true, ...(json ? {} : { onResult: (r) => process.stdout.write(probeLine(r)) }) });
  } catch (err) {
    if (!(err instanceof HealthCheckFailed)) throw err;
    report = err.report;
    failure = err;
  }
  return { json: healthReportJson(report), text: renderHealthReport(report), ...(failure ? { failure } : {}) };
}

/** The allocations --health_check probes: the ones the control ran on. */
const healthTargets = (plan: JobControlPlan): string[] => plan.batches.flatMap((b) => b.items.map((i) => i.worker_ip));

function renderControlPlan(plan: JobControlPlan): string {
  const lines = [`plan: ${plan.target} on job ${plan.job} via ${plan.mode === "job_control" ? `job_control hooks ${plan.hooks.join(",")} (TARGET=${plan.target})` : "the Makefile"}; nothing is run`];
  lines.push(`rollout order (${plan.rollout_order_source}): ${plan.rollout_order.join(",") || "-"}`);
  for (const b of plan.batches) lines.push(`batch ${b.batch_index + 1}/${b.batch_count}: ${b.items.map((i) => i.worker_ip).join(",")}`);
  return lines.join("\n");
}

function renderControlSummary(result: JobControlResult): string {
  const table = renderTable(result.steps, [
    { field: "worker", title: "ALLOCATION" },
    { field: "name", title: "STEP" },
    { field: "batch_index", title: "BATCH", format: (_v, r) => `${r.batch_index + 1}/${r.batch_count}` },
    { field: "status", title: "STATUS", format: (_v, r) => (r.status === "ok" || r.status === "skipped" ? r.status : `${r.status}: ${r.error ?? ""}`), maxWidth: Number.POSITIVE_INFINITY },
    { field: "duration_ms", title: "TIME", format: (v) => `${(Number(v) / 1000).toFixed(2)} s` },
  ]);
  return `${table}\n${commandLine(result)} (run ${result.run_id}): ${result.status}`;
}

/** GNU make's own words for a target the Makefile lacks (a job without a `status` target is common). */
const missingTarget = (tail: readonly string[], target: string): boolean => tail.some((l) => l.includes(`No rule to make target '${target}'`));

function statusRows(ctx: BucketContext, plan: JobControlPlan, result: JobControlResult) {
  const states = readDeployStates(ctx.db, [plan.job]);
  return [...states.values()].filter((s) => plan.rollout_order.includes(s.worker_ip) || result.steps.some((r) => r.alloc_id === s.alloc_id)).map((s) => {
    const step = result.steps.find((r) => r.alloc_id === s.alloc_id);
    return {
      worker_ip: s.worker_ip,
      current_version: s.current_version,
      running: s.running === 1,
      last_result: s.last_result,
      last_deploy_at: s.last_deploy_at ? new Date(s.last_deploy_at).toISOString() : null,
      status: step && missingTarget(step.tail, plan.target) ? "no target" : (step?.status ?? "not asked"),
      output: step?.status === "ok" ? (step.tail.at(-1) ?? "") : step && missingTarget(step.tail, plan.target) ? `the deployed Makefile has no ${plan.target} target` : (step?.error ?? ""),
    };
  });
}

function renderStatus(ctx: BucketContext, plan: JobControlPlan, result: JobControlResult): string {
  const rows = statusRows(ctx, plan, result);
  return renderTable(rows, [
    { field: "worker_ip", title: "ALLOCATION" },
    { field: "current_version", title: "VERSION" },
    { field: "running", title: "RUNNING", format: (v) => (v ? "yes" : "no") },
    { field: "last_result", title: "LAST DEPLOY" },
    { field: "status", title: "STATUS" },
    { field: "output", title: "OUTPUT", maxWidth: Number.POSITIVE_INFINITY },
  ]);
}
