import { readFileSync } from "node:fs";
import type { BucketContext } from "../bucket/context.js";
import type { DeployGate, GateBatch, JobRun } from "../deploy/job-run.js";
import { outcomeOf, stepRecord } from "../deploy/remote-steps.js";
import type { StepRecord } from "../rollout/events.js";
import { recordStep } from "../store/deploy-state.js";
import { loadHealthPlan } from "./input.js";
import type { JobProbePlan } from "./plan.js";
import type { ProbeResult } from "./run.js";

/**
 * Deploy's health gate (issue 12 point 4): after a start/update batch, the job's manifest
 * checks must pass on that batch's allocations, each retried per the manifest's wait, before
 * the next batch starts. The probes are `maand health_check`'s (loadHealthPlan, runJob),
 * restricted to the job and the batch's workers; every allocation x check is a "health" step of
 * the deploy's result and events.jsonl, and the allocation's last deploy step. health_check
 * hooks are not part of the gate: they are `maand health_check`'s (and `maand job …
 * --health_check`'s) second stage.
 */
export function healthGate(ctx: Pick<BucketContext, "paths">): DeployGate {
  // Read on the first gated batch only: a deploy without checks never opens the file.
  let ca: string | undefined;
  return async (batch, run) => {
    try {
      return await gateBatch(batch, run);
    } catch (err) {
      // The job fails with the reason (like a failed target), not the whole deploy with a throw.
      return `the health checks could not run: ${(err as Error).message}`;
    }
  };

  async function gateBatch(batch: GateBatch, run: JobRun): Promise<string | undefined> {
    // The session's KV when hooks ran: a pre_deploy hook may have written a port key.
    const kv = run.hooks.current()?.kv ?? run.ctx.kv;
    const job = loadHealthPlan(run.ctx.db, kv, { jobs: [batch.job], workers: batch.workers }).jobs[0];
    if (!job || !job.batches.length) return undefined;
    ca ??= readFileSync(ctx.paths.caCrt, "utf8");
    // Loaded here: the probe modules (http, https) are not a cost of deploys that gate nothing.
    const { runJob, describeFailedChecks, checkError } = await import("./run.js");
    const t0 = run.ctx.clock.now();
    for (const item of job.batches.flat()) run.reporter?.stepStart?.({ job: item.job, worker: item.workerIp, step: "health", name: item.check, phase: batch.phase });
    const results = await runJob(asOneBatch(job), {
      exec: (host, command, o) => run.pool.exec(host, command, o),
      ca,
      wait: true,
      signal: batch.signal,
      redact: run.redact,
      onResult: (r) => {
        const step = healthStep(run, batch, r, t0, checkError(r));
        run.record(step);
        // A failed check un-applies the allocation: its target succeeded but it is not healthy,
        // so the next deploy runs its lifecycle again (and gates it again) instead of only
        // syncing and promoting it as "applied".
        recordStep(run.ctx.db, { alloc_id: r.allocId, job: r.job, worker_ip: r.workerIp }, step.status === "failed" ? { applied_hash: "", applied_version: "" } : {}, outcomeOf(run, step));
      },
    });
    return describeFailedChecks(results);
  }
}

/**
 * The deploy batch is the unit: its width came from max_concurrent_starts or _upgrades, while
 * the health plan cuts batches of max_concurrent_upgrades. Every check x allocation of the
 * deploy batch runs at once.
 */
function asOneBatch(job: JobProbePlan): JobProbePlan {
  return { ...job, batches: [job.batches.flat()] };
}

function healthStep(run: JobRun, batch: GateBatch, r: ProbeResult, t0: number, error: string): StepRecord {
  const status = r.status === "ok" ? "ok" : batch.signal.aborted ? "interrupted" : "failed";
  const base = { job: r.job, alloc_id: r.allocId, worker: r.workerIp, step: "health" as const, name: r.check, phase: batch.phase, batch_index: batch.batch_index, batch_count: batch.batch_count };
  return stepRecord(run, base, { status, exit_code: null, timed_out: false, unreachable: false, error: status === "ok" ? null : error, tail: [] }, t0, run.ctx.clock.now());
}
