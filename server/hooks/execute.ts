import { setMaxListeners } from "node:events";
import { join } from "node:path";
import type { InvocationRegistry } from "../api/registry.js";
import type { BucketPaths } from "../bucket/paths.js";
import type { Db } from "../store/db.js";
import type { KvReader } from "../store/kv.js";
import { HOOK_ENV } from "./env-names.js";
import { HookPreflightError } from "./errors.js";
import { runHookProcess, type HookProcessResult } from "./hook-process.js";
import { interpreterResolver, type InterpreterResolver } from "./interpreters.js";
import { TailBuffer } from "./output.js";
import { watchProcessEnd, type ProcessEndWatch } from "./process-end.js";
import type { HookInvocationPlan, HookRunPlan, HookStepPlan } from "./plan-types.js";
import type { Redactor } from "./redaction.js";
import type { HookReporter } from "./reporter.js";
import type { HookRunResult, InvocationResult, InvocationStatus } from "./result.js";
import type { RunLogs } from "./run-logs.js";
import { warnUnmaskable, type RunningInvocations } from "./unmaskable.js";
import { createStager, type Stager } from "./stager.js";

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
  resolver?: InterpreterResolver;
  clock?: { now(): number };
}

/**
 * Applies a hook plan: steps in order, each one's batches in sequence, the allocations of a
 * batch in parallel, the next batch only after the whole batch succeeded. Interpreters and
 * scripts are checked for every step before the first hook starts. Never commits KV: that is
 * the caller's decision, made from the result.
 */
export async function executeHookPlan(plan: HookRunPlan, deps: ExecuteDeps): Promise<HookRunResult> {
  const interpreters = preflight(plan, deps);
  // Every running hook listens for Ctrl-C: a 200-wide batch is not a listener leak.
  if (deps.signal) setMaxListeners(0, deps.signal);
  const stager = createStager({ paths: deps.paths, db: deps.db, kv: deps.kv });
  const result: HookRunResult = { runId: deps.logs.runId, status: "ok", logsDir: deps.logs.dir, invocations: [] };
  deps.reporter?.runStart?.(plan, result.runId);
  deps.redactor.addJobSecrets(deps.db, deps.kv);
  // Staged into certs/ of the hooks about to run: a hook printing its key must not log it.
  deps.redactor.addCertKeys(deps.db, deps.kv, [...new Set(plan.steps.map((s) => s.job))]);
  const running: RunningInvocations = new Map();
  const stopWarning = deps.redactor.onUnmaskable((s) => warnUnmaskable(s, running, deps.reporter));

  try {
    for (const step of plan.steps) {
      for (const batch of step.batches) {
        if (result.status !== "ok" || deps.signal?.aborted) {
          if (deps.signal?.aborted) result.status = "interrupted";
          result.invocations.push(...batch.invocations.map((inv) => notRun(step, inv)));
          continue;
        }
        deps.reporter?.batchStart?.(step, batch);
        // Secrets written by earlier batches of this session must not leak either.
        deps.redactor.addJobSecrets(deps.db, deps.kv, [step.job]);
        const interpreter = interpreters.get(stepKey(step))!;
        const staged = batch.invocations.map((inv) => stageOne(stager, step, inv));
        const results = await Promise.all(
          batch.invocations.map((inv, i) => {
            const s = staged[i]!;
            return "error" in s ? Promise.resolve(failedBeforeStart(step, inv, s.error)) : runOne(step, inv, interpreter, s.dir, deps, running);
          }),
        );
        for (const r of results) deps.reporter?.invocationEnd?.(step, r);
        deps.reporter?.batchEnd?.(step, batch, results);
        result.invocations.push(...results);
        if (results.some((r) => r.status === "interrupted") || deps.signal?.aborted) result.status = "interrupted";
        else if (results.some((r) => r.status !== "ok")) result.status = "failed";
      }
    }
  } finally {
    stopWarning();
  }
  deps.reporter?.runEnd?.(result);
  return result;
}

const stepKey = (s: HookStepPlan): string => `${s.job}\0${s.hook}`;

/** A missing interpreter or script fails the whole run before anything starts (SPEC §7.3). */
function preflight(plan: HookRunPlan, deps: ExecuteDeps): Map<string, string> {
  const resolver = deps.resolver ?? interpreterResolver({ jobsDir: deps.paths.jobs });
  const scriptStmt = deps.db.prepare<[string, string], { n: number }>("SELECT COUNT(*) AS n FROM job_files WHERE job = ? AND path = ?");
  const problems: string[] = [];
  const interpreters = new Map<string, string>();
  for (const step of plan.steps) {
    if (!step.batches.length) continue;
    if (!scriptStmt.get(step.job, step.script)?.n) {
      problems.push(`job ${step.job}, ${step.hook}: script ${step.script} is not in the built job files; run 'maand build'`);
    }
    const r = resolver.resolve(step.job, step.script);
    if ("problem" in r) problems.push(`job ${step.job}, ${step.hook}: ${r.problem}`);
    else interpreters.set(stepKey(step), r.path);
  }
  if (problems.length) throw new HookPreflightError([...new Set(problems)]);
  return interpreters;
}

function stageOne(stager: Stager, step: HookStepPlan, inv: HookInvocationPlan): { dir: string } | { error: string } {
  try {
    return { dir: stager.stage(step.job, inv.workerIp).dir };
  } catch (err) {
    return { error: `staging failed: ${(err as Error).message}` };
  }
}

async function runOne(
  step: HookStepPlan,
  inv: HookInvocationPlan,
  interpreter: string,
  dir: string,
  deps: ExecuteDeps,
  running: RunningInvocations,
): Promise<InvocationResult> {
  const clock = deps.clock ?? Date;
  let watch: ProcessEndWatch | undefined;
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
  const tail = new TailBuffer();
  const started = clock.now();
  try {
    deps.reporter?.invocationStart?.(step, inv);
    const proc = await runHookProcess({
      interpreter,
      script: step.script,
      cwd: dir,
      env: { ...(deps.baseEnv ?? process.env), ...inv.env, [HOOK_ENV.apiPort]: String(deps.apiPort), [HOOK_ENV.legacyApiPort]: String(deps.apiPort), [HOOK_ENV.apiToken]: registered.token },
      timeoutMs: step.timeoutSeconds * 1000,
      killGraceMs: deps.killGraceMs ?? KILL_GRACE_MS,
      signal: deps.signal,
      onSpawn: (pid) => {
        watch = watchProcessEnd(pid);
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
