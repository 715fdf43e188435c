import type { Writable } from "node:stream";
import { openBucket } from "../../server/bucket/context.js";
import { planCliHooks } from "../../server/hooks/cli-targets.js";
import { RUNTIME_ENV } from "../../server/hooks/env-names.js";
import { describeInvocationFailure, HookRunFailed, HookRunInterrupted } from "../../server/hooks/errors.js";
import { invocationCount, type HookRunPlan, type HookStepPlan, type RolloutOrderIgnored } from "../../server/hooks/plan-types.js";
import type { HookReporter } from "../../server/hooks/reporter.js";
import type { HookRunResult, InvocationResult } from "../../server/hooks/result.js";
import { runHooksAllOrNothing } from "../../server/hooks/run.js";
import { planPostBuildHooks, runPostBuildHooks } from "../../server/hooks/post-build.js";
import type { BucketContext } from "../../server/bucket/context.js";
import { renderJson, renderTable } from "../render/table.js";
import { escapeText } from "../../server/text/escape.js";
import { ROLLOUT_ORDER_KEY } from "../../server/kv/namespaces.js";

interface HooksOptions {
  allocations?: string;
  verbose?: boolean;
  dryRun?: boolean;
  json?: boolean;
}

/** `maand hooks <hook> [job] [--allocations ip,...] [--verbose] [--dry-run] [--json]` */
export default async function hooks(bucket: string, hook: string, job: string | undefined, opts: HooksOptions): Promise<number> {
  if (opts.dryRun) {
    // A dry run writes nothing, so it neither takes the lock nor waits for a running deploy.
    const ctx = openBucket(bucket, { readonly: true });
    try {
      const plan = planCliHooks(ctx, { hook, job, allocations: opts.allocations });
      console.log(opts.json ? renderJson(plan) : renderPlan(plan));
      return 0;
    } finally {
      ctx.close();
    }
  }

  const ctx = openBucket(bucket);
  try {
    const plan = planCliHooks(ctx, { hook, job, allocations: opts.allocations });
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

/** `maand build`'s post_build pass, with the same progress display and summary as `maand hooks`. */
export async function postBuildHooks(ctx: BucketContext): Promise<void> {
  const plan = planPostBuildHooks(ctx);
  if (!plan || invocationCount(plan) === 0) return;
  await runWithProgress(plan, {}, (reporter) => runPostBuildHooks(ctx, { plan, reporter }));
}

/** Progress while `run` runs, then the summary, also for a failed or interrupted run. */
async function runWithProgress(
  plan: HookRunPlan,
  opts: Pick<HooksOptions, "json" | "verbose">,
  run: (reporter: HookReporter) => Promise<HookRunResult | undefined>,
): Promise<void> {
  // With --json, stdout carries only the JSON summary.
  const out = opts.json ? process.stderr : process.stdout;
  // Before the progress starts, so a live listr2 view cannot overwrite it.
  for (const step of plan.steps) {
    if (step.rolloutOrderIgnored) out.write(`${escapeText(`${step.job} ${step.hook}: ${ignoredOrderText(step.rolloutOrderIgnored)}`)}\n`);
  }
  const progress = await hookProgress(plan, { out, verbose: opts.verbose ?? false });
  try {
    const result = await run(progress.reporter);
    await progress.done();
    if (result) printSummary(result, opts.json ?? false);
  } catch (err) {
    await progress.done();
    if (err instanceof HookRunFailed || err instanceof HookRunInterrupted) printSummary(err.result, opts.json ?? false);
    throw err;
  }
}

function printSummary(result: HookRunResult, json: boolean): void {
  if (json) console.log(renderJson(summaryJson(result)));
  else console.log(renderSummary(result));
}

export function summaryJson(result: HookRunResult) {
  return {
    run_id: result.runId,
    status: result.status,
    logs: result.logsDir,
    invocations: result.invocations.map((i) => ({
      job: i.job,
      hook: i.hook,
      event: i.event,
      worker_ip: i.workerIp,
      alloc_id: i.allocId,
      batch: i.batchIndex,
      batch_count: i.batchCount,
      status: i.status,
      exit_code: i.exitCode,
      signal: i.signal,
      duration_ms: i.durationMs,
      ...(i.error ? { error: i.error } : {}),
      ...(i.status === "failed" || i.status === "timeout" ? { tail: i.tail } : {}),
    })),
  };
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

export function renderSummary(result: HookRunResult): string {
  const table = renderTable(result.invocations, [
    { field: "workerIp", title: "ALLOCATION" },
    { field: "job", title: "JOB" },
    { field: "hook", title: "HOOK" },
    { field: "batchIndex", title: "BATCH", format: (_v, r) => `${r.batchIndex + 1}/${r.batchCount}` },
    {
      field: "status",
      title: "STATUS",
      format: (_v, r) => (r.status === "failed" || r.status === "timeout" ? `${r.status} (${describeInvocationFailure(r)})` : r.status),
      // Why it failed is the point of the summary: never cut.
      maxWidth: Number.POSITIVE_INFINITY,
    },
    { field: "durationMs", title: "DURATION", format: (_v, r) => (r.status === "skipped" ? "-" : seconds(r.durationMs)) },
  ]);
  return `${table}\nrun ${result.runId}: ${result.status}; logs in ${result.logsDir}`;
}

/** The plan as `--dry-run` prints it: order, batches and every invocation's environment. */
export function renderPlan(plan: HookRunPlan): string {
  const lines = [`plan: ${plan.event} hooks, ${plan.steps.length} step(s), ${invocationCount(plan)} invocation(s); nothing is run`];
  for (const step of plan.steps) {
    lines.push("", `job ${step.job}  hook ${step.hook}  script ${step.script}  timeout ${step.timeoutSeconds} s`);
    lines.push(`  rollout order (${step.rolloutOrderSource}): ${step.rolloutOrder.join(",") || "(no allocations)"}`);
    const ignored = step.rolloutOrderIgnored;
    if (ignored) lines.push(`  ${ignoredOrderText(ignored)}; stored: ${ignored.stored.join(",") || "(empty)"}`);
    lines.push(`  batch width ${step.width} (${step.widthSource}), ${step.batches.length} batch(es)`);
    for (const batch of step.batches) {
      lines.push(`  batch ${batch.index + 1}/${step.batches.length}: ${batch.workers.join(",")}`);
      for (const inv of batch.invocations) {
        lines.push(`    ${inv.workerIp}  alloc ${inv.allocId}  index ${inv.allocationIndex}${inv.disabled ? "  disabled" : ""}${inv.oneShot ? "  one-shot" : ""}`);
        for (const [k, v] of Object.entries(inv.env)) lines.push(`      ${k}=${v}`);
      }
    }
  }
  lines.push("", `${RUNTIME_ENV.join(", ")} are set when each hook starts.`);
  // Environment values come from the catalog and KV (versions, a stored rollout order).
  return lines.map(escapeText).join("\n");
}

/** Why the operator's order did not apply, worded once for --dry-run and the line before a run. */
function ignoredOrderText(ignored: RolloutOrderIgnored): string {
  return `${ROLLOUT_ORDER_KEY} in KV ignored (${ignored.reason}); using catalog order`;
}

export interface HookProgress {
  reporter: HookReporter;
  /** Resolves once the progress display has finished drawing. */
  done(): Promise<void>;
}

/**
 * Live progress on a TTY (listr2: batch i/n, running, done, failed per hook); plain lines on
 * a pipe or with --verbose, where hook output is streamed prefixed with `[ip job hook]`.
 */
export async function hookProgress(plan: HookRunPlan, options: { out: Writable & { isTTY?: boolean }; verbose: boolean }): Promise<HookProgress> {
  // listr2's renderer draws on stdout: with --json (progress on stderr) plain lines are used.
  if (options.out === process.stdout && options.out.isTTY && !options.verbose) return listrProgress(plan);
  return plainProgress(options.out, options.verbose);
}

function plainProgress(out: Writable, verbose: boolean): HookProgress {
  const say = (s: string) => out.write(`${s}\n`);
  const reporter: HookReporter = {
    runStart: (plan, runId) => say(`run ${runId}: ${plan.event}, ${invocationCount(plan)} invocation(s)`),
    warning: (text) => say(`warning: ${text}`),
    batchStart: (step, batch) => say(`${step.job} ${step.hook}: batch ${batch.index + 1}/${step.batches.length} (${batch.workers.join(",")})`),
    output: verbose
      ? (step, inv, _stream, lines) => {
          for (const l of lines) say(`[${inv.workerIp} ${step.job} ${step.hook}] ${l}`);
        }
      : undefined,
    invocationEnd: (step, r) =>
      say(`  ${r.status.padEnd(11)} ${r.workerIp} ${step.job} ${step.hook} (${seconds(r.durationMs)})${r.status === "ok" ? "" : `: ${describeInvocationFailure(r)}`}`),
  };
  return { reporter, done: async () => {} };
}

interface StepState {
  step: HookStepPlan;
  batch: number;
  started: Set<string>;
  done: number;
  failed: number;
  outcome?: "ok" | "failed" | "skipped";
  task?: { title: string; skip(message?: string): void };
  settle?: (ok: boolean) => void;
}

async function listrProgress(plan: HookRunPlan): Promise<HookProgress> {
  const { Listr } = await import("listr2");
  const states = new Map<HookStepPlan, StepState>(plan.steps.map((step) => [step, { step, batch: 0, started: new Set(), done: 0, failed: 0 }]));
  const title = (s: StepState) => {
    const n = s.step.batches.length;
    if (!n) return `${s.step.job} ${s.step.hook}: no allocations`;
    const running = Math.max(0, s.started.size - s.done - s.failed);
    return `${s.step.job} ${s.step.hook}: batch ${Math.min(s.batch + 1, n)}/${n}, running ${running}, done ${s.done}, failed ${s.failed}`;
  };
  const draw = (s: StepState) => {
    if (!s.task) return;
    s.task.title = title(s);
    if (s.outcome === "skipped") s.task.skip(`${s.step.job} ${s.step.hook}: not run`);
    if (s.outcome) s.settle?.(s.outcome !== "failed");
  };
  const finish = (s: StepState, outcome: StepState["outcome"]) => {
    s.outcome ??= outcome;
    draw(s);
  };

  const listr = new Listr(
    [...states.values()].map((s) => ({
      title: title(s),
      task: (_ctx: unknown, task: StepState["task"]) =>
        new Promise<void>((resolve, reject) => {
          s.task = task;
          s.settle = (ok) => (ok ? resolve() : reject(new Error(title(s))));
          if (!s.step.batches.length) s.outcome ??= "ok";
          draw(s);
        }),
    })),
    { concurrent: false, exitOnError: false, registerSignalListeners: false, rendererOptions: { collapseErrors: false } },
  );
  const running = listr.run().catch(() => undefined);
  // listr2 redraws the screen: warnings wait until it has finished.
  const warnings: string[] = [];

  const reporter: HookReporter = {
    warning: (text) => void warnings.push(text),
    batchStart: (step, batch) => {
      const s = states.get(step)!;
      s.batch = batch.index;
      draw(s);
    },
    invocationStart: (step, inv) => {
      const s = states.get(step)!;
      s.started.add(inv.allocId);
      draw(s);
    },
    invocationEnd: (step, r: InvocationResult) => {
      const s = states.get(step)!;
      if (r.status === "ok") s.done++;
      else if (r.status !== "skipped") s.failed++;
      draw(s);
    },
    batchEnd: (step, batch, results) => {
      const s = states.get(step)!;
      if (results.some((r) => r.status !== "ok")) finish(s, "failed");
      else if (batch.index === step.batches.length - 1) finish(s, "ok");
    },
    runEnd: () => {
      for (const s of states.values()) finish(s, s.failed ? "failed" : s.started.size || !s.step.batches.length ? "ok" : "skipped");
    },
  };
  return {
    reporter,
    done: () => {
      // A run that failed before its first hook (preflight, busy port) never reported an end.
      for (const s of states.values()) finish(s, "skipped");
      return running.then(() => {
        for (const w of warnings) process.stdout.write(`warning: ${w}\n`);
      });
    },
  };
}
