import { readFileSync } from "node:fs";
import type { BucketContext } from "../bucket/context.js";
import { EXIT, MaandError } from "../errors.js";
import { planHookRun } from "../hooks/plan.js";
import { hookTargets, loadHookPlanInput } from "../hooks/plan-input.js";
import { invocationCount, type HookRunPlan } from "../hooks/plan-types.js";
import type { HookReporter } from "../hooks/reporter.js";
import type { HookRunResult } from "../hooks/result.js";
import { bucketSecretsRedactor } from "../hooks/redaction.js";
import { withHookSession } from "../hooks/run.js";
import { WorkerUnreachable } from "../workers/errors.js";
import { loadHealthPlan } from "./input.js";
import type { HealthPlan } from "./plan.js";
import { runHealthPlan, type ProbeResult } from "./run.js";

/**
 * `maand health_check` (SPEC §11): first every worker of the checked allocations must answer
 * over SSH; then per job the manifest's probes on active allocations in rollout order and
 * batches, then the job's health_check hooks on its non-removed allocations (disabled ones
 * included), whose KV writes the runtime API refuses. Nothing is ever committed.
 */
export interface HealthCheckRequest {
  jobs?: string[];
  workers?: string[];
  wait: boolean;
  /** Give up (checks and hooks) after this many seconds. */
  timeoutSeconds?: number;
  reporter?: HookReporter;
  onResult?(r: ProbeResult): void;
}

export interface HealthCheckReport {
  plan: HealthPlan;
  unreachable: Array<{ host: string; reason: string }>;
  checks: ProbeResult[];
  hooks?: HookRunResult;
  ok: boolean;
}

/** Some check or hook failed (exit 3), or a worker could not be reached (exit 4). */
export class HealthCheckFailed extends MaandError {
  constructor(readonly report: HealthCheckReport) {
    const failed = report.checks.filter((c) => c.status === "failed");
    const hookFailures = report.hooks?.invocations.filter((i) => i.status === "failed" || i.status === "timeout") ?? [];
    const lines = report.unreachable.length
      ? report.unreachable.map((u) => `worker ${u.host} unreachable: ${u.reason}`)
      : [
          ...failed.map((c) => `${c.workerIp} (job ${c.job}) ${c.check}: ${c.error ?? "failed"}${c.attempts > 1 ? ` (${c.attempts} attempts)` : ""}`),
          ...hookFailures.map((i) => `${i.workerIp} (job ${i.job}) ${i.hook}: ${i.error ?? `exit code ${i.exitCode}`}`),
        ];
    super(`health check failed:\n${lines.map((l) => `  ${l}`).join("\n")}`, report.unreachable.length ? EXIT.unreachable : EXIT.stepFailed);
  }

  override jsonDetail(): unknown {
    return { unreachable: this.report.unreachable, failed: this.report.checks.filter((c) => c.status === "failed") };
  }
}

export async function runHealthCheck(ctx: BucketContext, req: HealthCheckRequest): Promise<HealthCheckReport> {
  const plan = loadHealthPlan(ctx.db, ctx.kv, { ...(req.jobs ? { jobs: req.jobs } : {}), ...(req.workers ? { workers: req.workers } : {}) });
  const hookPlan = planHealthHooks(ctx, req);
  const hosts = [...new Set([...plan.jobs.flatMap((j) => j.rolloutOrder), ...hookPlan.steps.flatMap((s) => s.rolloutOrder)])];
  const report: HealthCheckReport = { plan, unreachable: [], checks: [], ok: false };
  if (!hosts.length) {
    report.ok = true;
    return report;
  }
  const pool = await ctx.workers();
  // The SSH gate: one round-trip per worker, all at once (within the pool's bound).
  const gate = await Promise.all(
    hosts.map(async (host) => {
      try {
        await pool.exec(host, "true", { timeoutMs: ctx.conf.ssh_connect_timeout * 1000 });
        return undefined;
      } catch (err) {
        return { host, reason: err instanceof WorkerUnreachable ? err.reason : (err as Error).message };
      }
    }),
  );
  report.unreachable = gate.filter((g): g is { host: string; reason: string } => g !== undefined);
  if (report.unreachable.length) throw new HealthCheckFailed(report);

  const redactor = bucketSecretsRedactor(ctx.db, ctx.kv, plan.jobs.map((j) => j.job));
  const deadline = req.timeoutSeconds !== undefined ? Date.now() + req.timeoutSeconds * 1000 : undefined;
  return withHookSession(ctx, async (session, interrupt) => {
    const signal = deadline !== undefined ? AbortSignal.any([interrupt, AbortSignal.timeout(deadline - Date.now())]) : interrupt;
    report.checks = await runHealthPlan(plan, {
      exec: (host, command, o) => pool.exec(host, command, o),
      ca: readFileSync(ctx.paths.caCrt, "utf8"),
      wait: req.wait,
      redact: (text) => redactor.redact(text),
      signal,
      ...(deadline !== undefined ? { deadline } : {}),
      ...(req.onResult ? { onResult: req.onResult } : {}),
    });
    if (invocationCount(hookPlan) > 0) report.hooks = await session.run(hookPlan, { reporter: req.reporter, signal });
    report.ok = report.checks.every((c) => c.status === "ok") && (report.hooks?.status ?? "ok") === "ok";
    if (!report.ok) throw new HealthCheckFailed(report);
    return report;
  });
}

function planHealthHooks(ctx: BucketContext, req: HealthCheckRequest): HookRunPlan {
  const targets = hookTargets(ctx.db, "health_check").filter((t) => !req.jobs || req.jobs.includes(t.job));
  if (!targets.length) return { event: "health_check", deployPhase: "health_check", bucketRoot: ctx.paths.root, steps: [] };
  return planHookRun(loadHookPlanInput(ctx, { event: "health_check", targets, ...(req.workers ? { allocations: req.workers } : {}) }));
}
