import type { StepRecord, StepStatus } from "../rollout/events.js";
import type { HookReporter } from "./reporter.js";
import type { InvocationResult } from "./result.js";

/** Where a hook run's step records go and what they say about their context. */
export interface HookEventTarget {
  sink(record: StepRecord): void;
  /** "hooks" for `maand hooks` and post_build; the owning command (deploy, job_control) otherwise. */
  command: string;
  waveIndex?: number | null;
  phase?: string | null;
  /** The owner's batch when the hook run is one batch of a bigger rollout (after_allocation_started). */
  batch?: { index: number; count: number };
}

/**
 * A reporter that also turns every invocation into a StepRecord (events.jsonl): start and end
 * times, duration, exit code, timeout, worker, job, batch. Invocations that never started (a
 * batch after a failure, Ctrl-C) are recorded as skipped when the run ends.
 */
export function recordingReporter(inner: HookReporter | undefined, target: HookEventTarget, runId: string, now: () => number): HookReporter {
  const started = new Map<string, number>();
  const written = new Set<string>();
  const key = (r: { job: string; hook: string; allocId: string }) => `${r.job}\0${r.hook}\0${r.allocId}`;
  const write = (r: InvocationResult) => {
    const k = key(r);
    if (written.has(k)) return;
    written.add(k);
    const t0 = started.get(k);
    const end = now();
    target.sink({
      run_id: runId,
      command: target.command,
      wave_index: target.waveIndex ?? null,
      job: r.job,
      worker: r.workerIp,
      alloc_id: r.allocId,
      step: "hook",
      name: r.hook,
      event: r.event,
      phase: target.phase ?? null,
      batch_index: target.batch?.index ?? r.batchIndex,
      batch_count: target.batch?.count ?? r.batchCount,
      status: r.status as StepStatus,
      started_at: t0 === undefined ? null : new Date(t0).toISOString(),
      ended_at: t0 === undefined ? null : new Date(end).toISOString(),
      duration_ms: r.durationMs,
      exit_code: r.exitCode,
      timed_out: r.status === "timeout",
      unreachable: false,
      error: r.status === "ok" || r.status === "skipped" ? null : (r.error ?? (r.exitCode !== null ? `exit code ${r.exitCode}` : `killed by ${r.signal ?? "a signal"}`)),
      tail: r.status === "failed" || r.status === "timeout" ? r.tail : [],
    });
  };
  // Delegated one by one: a reporter may be a class instance, whose methods a spread would drop.
  return {
    runStart: (plan, id) => inner?.runStart?.(plan, id),
    batchStart: (step, batch) => inner?.batchStart?.(step, batch),
    output: (step, inv, stream, lines) => inner?.output?.(step, inv, stream, lines),
    warning: (text) => inner?.warning?.(text),
    batchEnd: (step, batch, results) => inner?.batchEnd?.(step, batch, results),
    invocationStart(step, inv) {
      started.set(key({ job: step.job, hook: step.hook, allocId: inv.allocId }), now());
      inner?.invocationStart?.(step, inv);
    },
    invocationEnd(step, result) {
      write(result);
      inner?.invocationEnd?.(step, result);
    },
    runEnd(result) {
      for (const r of result.invocations) write(r);
      inner?.runEnd?.(result);
    },
  };
}
