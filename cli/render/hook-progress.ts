import type { Writable } from "node:stream";
import { describeInvocationFailure } from "../../server/hooks/errors.js";
import { invocationCount, type HookBatchPlan, type HookRunPlan, type HookStepPlan } from "../../server/hooks/plan-types.js";
import type { HookReporter } from "../../server/hooks/reporter.js";
import type { InvocationResult } from "../../server/hooks/result.js";
import { seconds } from "./hook-summary.js";

export interface HookProgress {
  reporter: HookReporter;
  /** Whether the summary should list every allocation (the live view did not). */
  perAllocationSummary: boolean;
  /** Resolves once the progress display has finished drawing. */
  done(): Promise<void>;
}

/**
 * A TTY gets a live view (listr2): the run id and the time since it started, then one line per
 * batch that stays on screen once finished (running, done, failed), and the summary table
 * afterwards lists each allocation once. A pipe (or --verbose, which streams hook output
 * prefixed with `[ip job hook]`) gets plain lines: one per batch start and one per allocation
 * as it ends, and a summary of totals only.
 */
export async function hookProgress(plan: HookRunPlan, options: { out: Writable & { isTTY?: boolean }; verbose: boolean; now?: () => number }): Promise<HookProgress> {
  // listr2's renderer draws on stdout: with --json (progress on stderr) plain lines are used.
  if (options.out === process.stdout && options.out.isTTY && !options.verbose) return listrProgress(plan, options.now ?? Date.now);
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
  return { reporter, perAllocationSummary: false, done: async () => {} };
}

interface BatchState {
  step: HookStepPlan;
  batch: HookBatchPlan;
  started: number;
  done: number;
  failed: number;
  outcome?: "ok" | "failed" | "skipped";
  task?: { title: string; skip(message?: string): void };
  settle?: (ok: boolean) => void;
}

type Task = { title: string; skip(message?: string): void };

async function listrProgress(plan: HookRunPlan, now: () => number): Promise<HookProgress> {
  const { Listr } = await import("listr2");
  const batches: BatchState[] = plan.steps.flatMap((step) => step.batches.map((batch) => ({ step, batch, started: 0, done: 0, failed: 0 })));
  const byKey = new Map(batches.map((b) => [`${b.step.job}\0${b.step.hook}\0${b.batch.index}`, b]));
  const of = (step: HookStepPlan, index: number) => byKey.get(`${step.job}\0${step.hook}\0${index}`)!;
  const title = (b: BatchState) => {
    const n = b.step.batches.length;
    const running = Math.max(0, b.started - b.done - b.failed);
    const where = `${b.step.job} ${b.step.hook} batch ${b.batch.index + 1}/${n} (${b.batch.workers.join(",")})`;
    return b.outcome === "skipped" ? `${where}: not run` : `${where}: running ${running}, done ${b.done}, failed ${b.failed}`;
  };
  const draw = (b: BatchState) => {
    if (!b.task) return;
    b.task.title = title(b);
    if (b.outcome === "skipped") b.task.skip(title(b));
    if (b.outcome) b.settle?.(b.outcome !== "failed");
  };
  const finish = (b: BatchState, outcome: BatchState["outcome"]) => {
    b.outcome ??= outcome;
    draw(b);
  };

  let runId = "";
  const started = now();
  let header: Task | undefined;
  const headerTitle = () => `run ${runId || "…"}: ${plan.event}, ${invocationCount(plan)} invocation(s), ${((now() - started) / 1000).toFixed(0)} s`;
  // The elapsed time moves on its own; the timer never keeps maand alive.
  const tick = setInterval(() => header && (header.title = headerTitle()), 1000);
  tick.unref();

  // One parent line (run id, elapsed time) over one line per batch, run one after another; a
  // finished batch keeps its line.
  const listr = new Listr(
    [
      {
        title: headerTitle(),
        task: (_ctx, task) => {
          header = task;
          task.title = headerTitle();
          return task.newListr(
            batches.map((b) => ({
              title: title(b),
              task: (_c, t) =>
                new Promise<void>((resolve, reject) => {
                  b.task = t;
                  b.settle = (ok) => (ok ? resolve() : reject(new Error(title(b))));
                  draw(b);
                }),
            })),
            { concurrent: false, exitOnError: false },
          );
        },
      },
    ],
    { concurrent: false, exitOnError: false, registerSignalListeners: false, rendererOptions: { collapseErrors: false, collapseSkips: false, collapseSubtasks: false } },
  );
  const running = listr.run().catch(() => undefined);
  // listr2 redraws the screen: warnings wait until it has finished.
  const warnings: string[] = [];
  const endHeader = () => {
    clearInterval(tick);
    if (header) header.title = headerTitle();
  };

  const reporter: HookReporter = {
    runStart: (_plan, id) => {
      runId = id;
      if (header) header.title = headerTitle();
    },
    warning: (text) => void warnings.push(text),
    invocationStart: (step, inv) => {
      const b = of(step, inv.batchIndex);
      b.started++;
      draw(b);
    },
    invocationEnd: (step, r: InvocationResult) => {
      const b = of(step, r.batchIndex);
      if (r.status === "ok") b.done++;
      else if (r.status !== "skipped") b.failed++;
      draw(b);
    },
    batchEnd: (step, batch, results) => finish(of(step, batch.index), results.some((r) => r.status !== "ok") ? "failed" : "ok"),
    runEnd: () => {
      endHeader();
      for (const b of batches) finish(b, "skipped");
    },
  };
  return {
    reporter,
    perAllocationSummary: true,
    done: () => {
      // A run that failed before its first hook (busy port) never reported a start or an end.
      endHeader();
      for (const b of batches) finish(b, "skipped");
      return running.then(() => {
        for (const w of warnings) process.stdout.write(`warning: ${w}\n`);
      });
    },
  };
}
