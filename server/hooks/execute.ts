import { setMaxListeners } from "node:events";
import { join, relative } from "node:path";
import type { InvocationRegistry } from "../api/registry.js";
import type { BucketPaths } from "../bucket/paths.js";
import type { Db } from "../store/db.js";
import type { KvReader } from "../store/kv.js";
import { HOOK_ENV } from "./env-names.js";
import { runBatches } from "../rollout/run-batches.js";
import { runHookProcess, type HookProcessResult, type HookProcessSpec } from "./hook-process.js";
import { stagedPathMapper, TailBuffer } from "./output.js";
import { watchProcessEnd, type ProcessEndWatch } from "./process-end.js";
import type { HookInvocationPlan, HookRunPlan, HookStepPlan } from "./plan-types.js";
import type { Redactor } from "./redaction.js";
import type { HookReporter } from "./reporter.js";
import type { HookRunResult, InvocationResult, InvocationStatus } from "./result.js";
import type { RunLogs } from "./run-logs.js";
import { warnUnmaskable, type RunningInvocations } from "./unmaskable.js";
import { createStager } from "./stager.js";
import type { HookProcessRecord } from "./orphans.js";

/** SIGTERM -> SIGKILL grace for timeouts and Ctrl-C (SPEC §7.3). */
export const KILL_GRACE_MS = 5000;

export interface ExecuteDeps {
  paths: BucketPaths;
  db: Db;
  /** The session's KV reader (certs are staged from it). */
  kv: KvReader;
  registry: InvocationRegistry;
  apiPort: number;
  logs: RunLogs;
  redactor: Redactor;
  reporter?: HookReporter;
  /** Aborted on Ctrl-C: running hooks are stopped, nothing further starts. */
  signal?: AbortSignal;
  /** Inherited by every hook under the plan's variables; defaults to maand's own environment. */
  baseEnv?: NodeJS.ProcessEnv;
  killGraceMs?: number;
  clock?: { now(): number };
  /**
   * The two steps that touch the world, replaceable so a recording executor can apply any plan
   * in a test: staging the job directory (default: tmp/workers/<ip>/jobs/<job>/ from the
   * catalog) and running the hook process (default: a process group with timeout and Ctrl-C).
   */
  stage?: (job: string, workerIp: string) => { dir: string };
  spawn?: (spec: HookProcessSpec) => Promise<HookProcessResult>;
  /** Records each hook's process group, so a maand killed mid-run leaves none behind (orphans.ts). */
  processes?: HookProcessRecord;
}

interface Item {
  step: HookStepPlan;
  inv: HookInvocationPlan;
}

/**
 * Applies a hook plan with the shared batch executor (server/rollout/run-batches.ts): steps in
 * order, each one's batches in sequence, the allocations of a batch in parallel, the next batch
 * (and step) only after the whole batch succeeded. Interpreters and scripts were checked when
 * the plan was made. Never commits KV: that is the caller's decision, made from the result.
 */
export async function executeHookPlan(plan: HookRunPlan, deps: ExecuteDeps): Promise<HookRunResult> {
  // Every running hook listens for Ctrl-C: a 200-wide batch is not a listener leak.
  if (deps.signal) setMaxListeners(0, deps.signal);
  const stage = deps.stage ?? stagerOf(deps);
  const result: HookRunResult = { runId: deps.logs.runId, status: "ok", logsDir: deps.logs.dir, invocations: [] };
  deps.reporter?.runStart?.(plan, result.runId);
  deps.redactor.addJobSecrets(deps.db, deps.kv);
  // Staged into certs/ of the hooks about to run: a hook printing its key must not log it.
  deps.redactor.addCertKeys(deps.db, deps.kv, [...new Set(plan.steps.map((s) => s.job))]);
  const running: RunningInvocations = new Map();
  const stopWarning = deps.redactor.onUnmaskable((s) => warnUnmaskable(s, running, deps.reporter));
  // Every batch of every step, in order: a failure in one step stops the steps after it too.
  const batches = plan.steps.flatMap((step) => step.batches.map((b) => ({ step, batch: b, items: b.invocations.map((inv): Item => ({ step, inv })) })));
  try {
    const run = await runBatches<Item, InvocationResult>(
      batches.map((b) => b.items),
      {
        signal: deps.signal,
        skipped: ({ step, inv }) => notRun(step, inv),
        failed: (r) => r.status !== "ok",
        interrupted: (r) => r.status === "interrupted",
        onBatchStart(i) {
          const { step, batch } = batches[i]!;
          deps.reporter?.batchStart?.(step, batch);
          // Secrets written by earlier batches of this session must not leak either.
          deps.redactor.addJobSecrets(deps.db, deps.kv, [step.job]);
        },
        onBatchEnd(i, results) {
          const { step, batch } = batches[i]!;
          for (const r of results) deps.reporter?.invocationEnd?.(step, r);
          deps.reporter?.batchEnd?.(step, batch, results);
        },
        async runOne({ step, inv }) {
          let dir: string;
          try {
            dir = stage(step.job, inv.workerIp).dir;
          } catch (err) {
            return failedBeforeStart(step, inv, `staging failed: ${(err as Error).message}`);
          }
          return runOne(step, inv, dir, deps, running);
        },
      },
    );
    result.status = run.status;
    result.invocations = run.results;
  } finally {
    stopWarning();
  }
  deps.reporter?.runEnd?.(result);
  return result;
}

function stagerOf(deps: ExecuteDeps): (job: string, workerIp: string) => { dir: string } {
  const stager = createStager({ paths: deps.paths, db: deps.db, kv: deps.kv });
  return (job, workerIp) => stager.stage(job, workerIp);
}

async function runOne(
  step: HookStepPlan,
  inv: HookInvocationPlan,
  dir: string,
  deps: ExecuteDeps,
  running: RunningInvocations,
): Promise<InvocationResult> {
  const clock = deps.clock ?? Date;
  let watch: ProcessEndWatch | undefined;
  let spawnedPid: number | undefined;
  const registered = deps.registry.register({
    allocId: inv.allocId,
    job: step.job,
    workerIp: inv.workerIp,
    event: step.event,
    command: step.hook,
    hasEnded: () => watch?.ended() ?? false,
  });
  deps.redactor.add(registered.token);
  const log = deps.logs.open({ job: step.job, hook: step.hook, event: step.event, workerIp: inv.workerIp });
  running.set(inv.allocId, { job: step.job, log });
  // The report names the file the operator edits, not maand's staged copy of it.
  const tail = new TailBuffer(undefined, stagedPathMapper(dir, relative(deps.paths.root, join(deps.paths.jobs, step.job)) || join(deps.paths.jobs, step.job)));
  const started = clock.now();
  try {
    deps.reporter?.invocationStart?.(step, inv);
    const proc = await (deps.spawn ?? runHookProcess)({
      interpreter: step.interpreter,
      script: step.script,
      cwd: dir,
      env: { ...(deps.baseEnv ?? process.env), ...inv.env, [HOOK_ENV.apiPort]: String(deps.apiPort), [HOOK_ENV.legacyApiPort]: String(deps.apiPort), [HOOK_ENV.apiToken]: registered.token },
      timeoutMs: step.timeoutSeconds * 1000,
      killGraceMs: deps.killGraceMs ?? KILL_GRACE_MS,
      signal: deps.signal,
      onSpawn: (pid) => {
        watch = watchProcessEnd(pid);
        deps.processes?.started(pid);
        spawnedPid = pid;
        log.write("maand", [`started ${join(dir, step.script)} (pid ${pid}, batch ${inv.batchIndex + 1}/${step.batches.length})`]);
      },
      // The invocation ends with its script: a child it forked keeps running until the group is
      // killed (up to the kill grace), and must not act with the token or hold semaphore slots.
      onExit: () => deps.registry.unregister(inv.allocId),
      // Secrets are masked on the raw bytes, before lines are split and sanitised.
      filter: () => deps.redactor.stream(),
      onLines(stream, lines) {
        for (const l of lines) tail.push(l);
        log.write(stream, lines);
        deps.reporter?.output?.(step, inv, stream, lines);
      },
    });
    const durationMs = clock.now() - started;
    const { status, error } = classify(proc, step.timeoutSeconds);
    log.write("maand", [`${status}${error ? `: ${error}` : ` (exit code ${proc.exitCode})`} after ${durationMs} ms`]);
    return {
      ...base(step, inv),
      status,
      exitCode: proc.exitCode,
      signal: proc.signal,
      durationMs,
      tail: tail.get(),
      ...(error ? { error } : {}),
    };
  } finally {
    // The group is gone (runHookProcess returns once it is): nothing left to reap after a crash.
    if (spawnedPid !== undefined) deps.processes?.ended(spawnedPid);
    // Already done at the script's exit; again for a script that never started. Unregistering
    // also frees every semaphore slot the invocation held.
    deps.registry.unregister(inv.allocId);
    watch?.close();
    running.delete(inv.allocId);
    log.close();
  }
}

function classify(p: HookProcessResult, timeoutSeconds: number): { status: InvocationStatus; error?: string } {
  if (p.spawnError) return { status: "failed", error: `could not start: ${p.spawnError}` };
  if (p.interrupted) return { status: "interrupted", error: "stopped by Ctrl-C" };
  if (p.timedOut) return { status: "timeout", error: `timed out after ${timeoutSeconds} s (process group killed)` };
  if (p.exitCode === 0) return { status: "ok" };
  return { status: "failed" };
}

function base(step: HookStepPlan, inv: HookInvocationPlan) {
  return {
    job: step.job,
    hook: step.hook,
    event: step.event,
    allocId: inv.allocId,
    workerIp: inv.workerIp,
    batchIndex: inv.batchIndex,
    batchCount: step.batches.length,
  };
}

function notRun(step: HookStepPlan, inv: HookInvocationPlan): InvocationResult {
  return { ...base(step, inv), status: "skipped", exitCode: null, signal: null, durationMs: 0, tail: [] };
}

function failedBeforeStart(step: HookStepPlan, inv: HookInvocationPlan, error: string): InvocationResult {
  return { ...base(step, inv), status: "failed", exitCode: null, signal: null, durationMs: 0, tail: [], error };
}
