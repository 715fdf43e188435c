import { openBucket, type BucketContext } from "../../server/bucket/context.js";
import { DeployFailed, DeployInterrupted } from "../../server/deploy/errors.js";
import type { DeployRequest } from "../../server/deploy/plan-types.js";
import { planDeployment, runDeploy } from "../../server/deploy/run.js";
import { deployRenderStep } from "../../server/deploy/render-step.js";
import { PlannedTemplateErrors } from "../../server/deploy/template-errors.js";
import { planWithStaleHint, warnIfStaleInSlices } from "../../server/build/stale.js";
import { UsageError } from "../../server/errors.js";
import { renderDeployPlan } from "../render/deploy-plan.js";
import { liveDeployProgress, plainDeployProgress } from "../render/deploy-progress.js";
import { renderDeploySummary } from "../render/deploy-summary.js";
import { renderJson } from "../render/table.js";

export interface DeployOptions {
  jobs?: string;
  dryRun?: boolean;
  force?: boolean;
  build?: boolean;
  syncOnly?: boolean;
  /** commander's --no-health-gate: false when given. */
  healthGate?: boolean;
  json?: boolean;
  verbose?: boolean;
}

/** A --jobs list; an empty list or entry is a usage error, not "every job". */
export function parseJobs(flag: string, raw: string | undefined): string[] | undefined {
  if (raw === undefined) return undefined;
  const list = raw.split(",").map((s) => s.trim());
  if (list.some((s) => !s)) throw new UsageError(`${flag} ${JSON.stringify(raw)}: expected a comma-separated list of job names, e.g. ${flag} api,web`);
  return [...new Set(list)];
}

/** `maand deploy [--jobs a,b] [--dry-run] [--force] [--build] [--sync-only] [--no-health-gate] [--json] [--verbose]` */
export default async function deployCommand(bucket: string, opts: DeployOptions): Promise<number> {
  const request: DeployRequest = { jobs: parseJobs("--jobs", opts.jobs), force: opts.force ?? false, sync_only: opts.syncOnly ?? false, health_gate: opts.healthGate !== false };
  if (opts.force && opts.syncOnly) throw new UsageError("--force restarts every allocation and --sync-only runs no lifecycle target: use one of them");
  if (opts.dryRun) {
    if (opts.build) throw new UsageError("--dry-run writes nothing, --build writes the catalog: build first, then dry-run");
    // A dry run contacts no worker, writes nothing and takes no lock (a running deploy does not block it).
    const ctx = openBucket(bucket, { readonly: true });
    try {
      const render = await deployRenderStep(ctx.db);
      const { plan } = planWithStaleHint(ctx, () => planDeployment(ctx, request, { render }));
      console.log(opts.json ? renderJson({ plan }) : renderDeployPlan(plan));
      // Templates that do not render fail the dry run (after the plan, which marks them).
      const templateErrors = PlannedTemplateErrors.of(plan);
      if (templateErrors) throw templateErrors;
      return 0;
    } finally {
      ctx.close();
    }
  }

  const ctx = openBucket(bucket);
  try {
    if (opts.build) await buildFirst(ctx, opts.json ?? false);
    // With --json stdout carries only the JSON: progress goes to stderr, as plain lines.
    const live = !opts.json && !opts.verbose && process.stdout.isTTY ? liveDeployProgress(process.stdout) : undefined;
    const reporter = live ?? plainDeployProgress(opts.json ? process.stderr : process.stdout, opts.verbose ?? false);
    // Warned once, while the workers are being reached (or as a plan error is reported); on a
    // TTY above the live block, which a stray line would garble.
    let staleChecked: Promise<unknown> | undefined = opts.build ? Promise.resolve() : undefined;
    const staleCheck = () => (staleChecked ??= warnIfStaleInSlices(live ? { ...ctx, log: { ...ctx.log, warn: (m) => live.warning?.(m) } } : ctx));
    let outcome;
    try {
      outcome = await runDeploy(ctx, request, { reporter, verbose: opts.verbose ?? false, whileConnecting: staleCheck });
    } finally {
      await staleCheck();
      live?.done();
    }
    const { plan, result } = outcome;
    if (opts.json) console.log(renderJson({ plan, result }));
    else console.log(renderDeploySummary(plan, result));
    if (result.status === "interrupted") throw new DeployInterrupted(result);
    if (result.status === "failed") throw new DeployFailed(result, ctx.paths.root);
    return 0;
  } finally {
    ctx.close();
  }
}

/** --build: the catalog first (its post_build hooks included), so the deploy ships the workspace as it is. */
async function buildFirst(ctx: BucketContext, json: boolean): Promise<void> {
  // Loaded only with --build: workspace reading and the hook engine are not a deploy's cost.
  const [{ runBuild }, { runPostBuildHooks }, { renderBuildSummary }] = await Promise.all([
    import("../../server/build/run.js"),
    import("../../server/hooks/post-build.js"),
    import("../render/build-summary.js"),
  ]);
  await runBuild(ctx, {
    afterCommit: async (committed, result) => {
      for (const w of result.warnings) committed.log.warn(w);
      (json ? process.stderr : process.stdout).write(`${renderBuildSummary(result)}\n`);
      await runPostBuildHooks(committed);
    },
  });
}

