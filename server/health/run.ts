import { setTimeout as sleep } from "node:timers/promises";
import { runBatches } from "../rollout/run-batches.js";
import type { HealthPlan, JobProbePlan, ProbeItem } from "./plan.js";
import { httpProbe, sshProbe, tcpProbe, type ProbeOutcome } from "./probes.js";

/** One allocation × check, as the report lists it. */
export interface ProbeResult {
  job: string;
  allocId: string;
  workerIp: string;
  check: string;
  status: "ok" | "failed" | "not_run";
  latencyMs: number;
  attempts: number;
  error?: string;
}

export interface ProbeDeps {
  /** Runs a command on a worker (the command's worker pool): ssh checks only. */
  exec(host: string, command: string, options: { timeoutMs: number; signal?: AbortSignal }): Promise<{ exitCode: number | null; stdout: Buffer; stderr: Buffer; timedOut: boolean }>;
  /** The bucket CA's PEM, trusted by https checks. */
  ca?: string;
  /** Retry each failing check per the manifest's wait (attempts, interval_seconds). */
  wait: boolean;
  signal?: AbortSignal;
  /** Gives up waiting at this time (ms since epoch): `--timeout`. */
  deadline?: number;
  onResult?(r: ProbeResult): void;
  /** Masks known secret values in an error (an ssh check's error quotes the command's last output line). */
  redact?(text: string): string;
}

/**
 * Runs a health plan: job by job, each job's batches one after another (the next only after
 * every check of the current one passed), every check × allocation of a batch in parallel. A
 * failed batch leaves that job's later batches not run; other jobs still run.
 */
export async function runHealthPlan(plan: HealthPlan, deps: ProbeDeps): Promise<ProbeResult[]> {
  const results: ProbeResult[] = [];
  for (const job of plan.jobs) results.push(...(await runJob(job, deps)));
  return results;
}

export async function runJob(job: JobProbePlan, deps: ProbeDeps): Promise<ProbeResult[]> {
  const run = await runBatches<ProbeItem, ProbeResult>(job.batches, {
    signal: deps.signal,
    skipped: (item) => ({ ...base(item), status: "not_run", latencyMs: 0, attempts: 0 }),
    failed: (r) => r.status !== "ok",
    runOne: async (item) => {
      const r = await probeWithRetries(job, item, deps);
      deps.onResult?.(r);
      return r;
    },
  });
  return run.results;
}

const base = (item: ProbeItem) => ({ job: item.job, allocId: item.allocId, workerIp: item.workerIp, check: item.check });

async function probeWithRetries(job: JobProbePlan, item: ProbeItem, deps: ProbeDeps): Promise<ProbeResult> {
  const attempts = deps.wait ? job.wait.attempts : 1;
  let last: ProbeOutcome = { ok: false, latencyMs: 0, error: "not run" };
  let n = 0;
  while (n < attempts) {
    n++;
    last = await probeOnce(item, job.timeoutSeconds * 1000, deps);
    if (last.ok || deps.signal?.aborted || n >= attempts) break;
    const pause = job.wait.intervalSeconds * 1000;
    if (deps.deadline !== undefined && Date.now() + pause >= deps.deadline) break;
    try {
      await sleep(pause, undefined, { signal: deps.signal });
    } catch {
      break; // interrupted
    }
  }
  return { ...base(item), status: last.ok ? "ok" : "failed", latencyMs: last.latencyMs, attempts: n, ...(last.error ? { error: deps.redact ? deps.redact(last.error) : last.error } : {}) };
}

function probeOnce(item: ProbeItem, timeoutMs: number, deps: ProbeDeps): Promise<ProbeOutcome> {
  const p = item.probe;
  if ("problem" in p) return Promise.resolve({ ok: false, latencyMs: 0, error: p.problem });
  if (p.type === "tcp") return tcpProbe(item.workerIp, p.port, timeoutMs, deps.signal);
  if (p.type === "http") {
    return httpProbe(
      { scheme: p.scheme, host: item.workerIp, port: p.port, path: p.path, expectStatus: p.expect_status, ...(p.expect_body !== undefined ? { expectBody: p.expect_body } : {}), ca: deps.ca },
      timeoutMs,
      deps.signal,
    );
  }
  return sshProbe(deps.exec, item.workerIp, p.command, timeoutMs, deps.signal);
}

/** One line per failed check, for a deploy gate's reason and the command's error. */
export function describeFailedChecks(results: readonly ProbeResult[]): string | undefined {
  const failed = results.filter((r) => r.status === "failed");
  if (!failed.length) return undefined;
  return failed.map((r) => `${r.workerIp} (job ${r.job}) ${r.check}: ${checkError(r)}`).join("; ");
}

/** Why one check failed, with how often it was tried (the gate's step records, describeFailedChecks). */
export function checkError(r: Pick<ProbeResult, "error" | "attempts">): string {
  return `${r.error ?? "failed"}${r.attempts > 1 ? ` after ${r.attempts} attempts` : ""}`;
}
