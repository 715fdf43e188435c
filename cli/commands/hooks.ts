import { openBucket, type BucketContext } from "../../server/bucket/context.js";
import { planCliHooks } from "../../server/hooks/cli-targets.js";
import { HookRunFailed, HookRunInterrupted } from "../../server/hooks/errors.js";
import { invocationCount, type HookRunPlan } from "../../server/hooks/plan-types.js";
import { planPostBuildHooks, runPostBuildHooks } from "../../server/hooks/post-build.js";
import type { HookReporter } from "../../server/hooks/reporter.js";
import type { HookRunResult } from "../../server/hooks/result.js";
import { runHooksAllOrNothing } from "../../server/hooks/run.js";
import { UsageError } from "../../server/errors.js";
import { planWithStaleHint } from "../../server/build/stale.js";
import { escapeText } from "../../server/text/escape.js";
import { hookProgress } from "../render/hook-progress.js";
import { ignoredOrderText, planJson, renderPlan } from "../render/hook-plan.js";
import { renderSummary, summaryJson } from "../render/hook-summary.js";
import { renderJson } from "../render/table.js";

interface HooksOptions {
  build?: boolean;
  allocations?: string;
  verbose?: boolean;
  dryRun?: boolean;
  env?: boolean;
  json?: boolean;
  concurrency?: string;
}

/** `maand hooks <hook> [job] [--allocations ip,...] [--concurrency N] [--verbose] [--dry-run [--env]] [--json]` */
export default async function hooks(bucket: string, hook: string, job: string | undefined, opts: HooksOptions): Promise<number> {
  const request = { hook, job, allocations: opts.allocations, ...(opts.concurrency !== undefined ? { width: concurrency(opts.concurrency) } : {}) };
  if (opts.build && opts.dryRun) throw new UsageError("--build with --dry-run would write the catalog: run 'maand build --dry-run', then 'maand hooks ... --dry-run'");
  if (opts.build) {
    const build = (await import("./build.js")).default;
    await build(bucket, { json: opts.json, quiet: opts.json });
  }
  if (opts.dryRun) {
    // A dry run writes nothing, so it neither takes the lock nor waits for a running deploy.
    const ctx = openBucket(bucket, { readonly: true });
    try {
      const plan = planWithStaleHint(ctx, () => planCliHooks(ctx, request));
      console.log(opts.json ? renderJson(planJson(plan)) : renderPlan(plan, { env: opts.env }));
      return 0;
    } finally {
      ctx.close();
    }
  }

  const ctx = openBucket(bucket);
  try {
    const plan = planWithStaleHint(ctx, () => planCliHooks(ctx, request));
    if (invocationCount(plan) === 0) {
      console.log(opts.json ? renderJson(summaryJson({ runId: "", status: "ok", logsDir: "", invocations: [] })) : "no allocations to run on");
      return 0;
    }
    await runWithProgress(plan, opts, (reporter) => runHooksAllOrNothing(ctx, plan, { reporter }));
    return 0;
  } finally {
    ctx.close();
  }
}

/** --concurrency N: the batch width of this run, instead of the manifest's (the original has it). */
function concurrency(raw: string): number {
  const n = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(n) || n < 1) throw new UsageError(`--concurrency ${JSON.stringify(raw)}: expected a whole number >= 1`);
  return n;
}

/** `maand build`'s post_build pass, with the same progress display and summary as `maand hooks`. */
export async function postBuildHooks(ctx: BucketContext, opts: Pick<HooksOptions, "json"> = {}): Promise<void> {
  const plan = planPostBuildHooks(ctx);
  if (!plan || invocationCount(plan) === 0) return;
  // With build --json, stdout holds the build's JSON alone: the hooks' progress and summary go to stderr.
  await runWithProgress(plan, { json: false, toStderr: opts.json }, (reporter) => runPostBuildHooks(ctx, { plan, reporter }));
}

/** Progress while `run` runs, then the summary, also for a failed or interrupted run. */
async function runWithProgress(
  plan: HookRunPlan,
  opts: Pick<HooksOptions, "json" | "verbose"> & { toStderr?: boolean },
  run: (reporter: HookReporter) => Promise<HookRunResult | undefined>,
): Promise<void> {
  // With --json, stdout carries only the JSON summary.
  const out = opts.json || opts.toStderr ? process.stderr : process.stdout;
  // Before the progress starts, so a live listr2 view cannot overwrite it.
  for (const step of plan.steps) {
    if (step.rolloutOrderIgnored) out.write(`${escapeText(`${step.job} ${step.hook}: ${ignoredOrderText(step.rolloutOrderIgnored)}`)}\n`);
  }
  const progress = await hookProgress(plan, { out, verbose: opts.verbose ?? false });
  const print = (result: HookRunResult) =>
    out === process.stdout || opts.json
      ? console.log(opts.json ? renderJson(summaryJson(result)) : renderSummary(result, { perAllocation: progress.perAllocationSummary }))
      : out.write(`${renderSummary(result, { perAllocation: progress.perAllocationSummary })}\n`);
  try {
    const result = await run(progress.reporter);
    await progress.done();
    if (result) print(result);
  } catch (err) {
    await progress.done();
    if (err instanceof HookRunFailed || err instanceof HookRunInterrupted) print(err.result);
    throw err;
  }
}
