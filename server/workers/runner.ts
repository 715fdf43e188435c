import { StringDecoder } from "node:string_decoder";
import type { ExecResult } from "./channel.js";
import { MaandError } from "../errors.js";
import { WorkerStepFailed, assertNotLost } from "./errors.js";
import { isSafeName } from "./sync-plan.js";
import { runnerPath } from "./layout.js";
import type { WorkerPool } from "./pool.js";
import { PYTHON_ARGV } from "./scripts.js";
import { shellJoin } from "./shell.js";

export interface RunTargetRequest {
  host: string;
  bucketId: string;
  /** A Makefile target: start, stop, restart, reload, or any target of `maand job run`. */
  target: string;
  jobs: readonly string[];
  /** Per job, enforced by runner.py (SIGTERM to the target's process group, then SIGKILL). */
  timeoutSec?: number;
  /** Extra environment; CURRENT_VERSION / NEW_VERSION here override jobs.json. */
  env?: Readonly<Record<string, string>>;
  signal?: AbortSignal;
  /** Each line of make's output as the worker prints it (--verbose); the result still has all of it. */
  onLine?: (line: string) => void;
}

/** One job's outcome as runner.py reports it. exit_code is negative when make was killed by that signal. */
export interface RunnerJobResult {
  job: string;
  target: string;
  exit_code: number | null;
  timed_out: boolean;
  /** null on success; otherwise why (missing job dir, missing target, exit code, timeout). */
  error: string | null;
  /** Last 20 output lines (stdout and stderr merged). */
  tail: string[];
  duration_ms: number;
}

export interface RunTargetResult {
  host: string;
  ok: boolean;
  jobs: RunnerJobResult[];
  /** make's output as it happened (runner.py writes it to stderr in --json mode). */
  output: string;
}

/** Margin for the remote backstop beyond the runner's own per-job timeouts and kill grace. */
const BACKSTOP_PER_JOB_SEC = 15;
const BACKSTOP_SEC = 30;

/** The worker-side command line; exactly what an operator can type on the worker. */
export function runnerCommand(bucketId: string, target: string, jobs: readonly string[], o: { timeoutSec?: number; json?: boolean } = {}): string {
  const argv = [...PYTHON_ARGV, runnerPath(bucketId), bucketId, target, "--jobs", jobs.join(",")];
  if (o.timeoutSec !== undefined) argv.push("--timeout", String(o.timeoutSec));
  if (o.json) argv.push("--json");
  return shellJoin(argv);
}

/** What runner.py accepts as a target: never an option (-f...) or a variable assignment (X=1) for make. */
export const TARGET_PATTERN = /^[A-Za-z0-9_.@+/][A-Za-z0-9_.@+/-]*$/;

/** Runs `make <target>` of each job on one worker through runner.py (installed by the sync's layout step). */
export async function runTarget(pool: WorkerPool, req: RunTargetRequest): Promise<RunTargetResult> {
  const problems = [
    ...(TARGET_PATTERN.test(req.target) ? [] : [`target ${JSON.stringify(req.target)}: expected letters, digits, _ . @ + / - (not starting with -)`]),
    ...(req.jobs.length ? [] : ["no jobs given"]),
    ...[req.bucketId, ...req.jobs].filter((n) => !isSafeName(n)).map((n) => `${JSON.stringify(n)}: expected a bucket id or job name`),
  ];
  if (problems.length) throw new MaandError(`cannot run a target on ${req.host}: ${problems.join("; ")}`);
  const command = runnerCommand(req.bucketId, req.target, req.jobs, { timeoutSec: req.timeoutSec, json: true });
  const timeoutMs = req.timeoutSec === undefined ? undefined : (req.jobs.length * (req.timeoutSec + BACKSTOP_PER_JOB_SEC) + BACKSTOP_SEC) * 1000;
  const lines = req.onLine ? lineSplitter(req.onLine) : undefined;
  const r = await pool.exec(req.host, command, { env: req.env, signal: req.signal, timeoutMs, ...(lines ? { onStderr: lines.push } : {}) });
  lines?.end();
  return parseRunner(req, r);
}

/** Whole lines out of a byte stream (a multi-byte character split between chunks stays whole). */
function lineSplitter(onLine: (line: string) => void): { push(chunk: Buffer): void; end(): void } {
  const decoder = new StringDecoder("utf8");
  let pending = "";
  return {
    push: (chunk) => {
      const parts = (pending + decoder.write(chunk)).split("\n");
      pending = parts.pop()!;
      for (const l of parts) onLine(l);
    },
    end: () => {
      const rest = pending + decoder.end();
      if (rest) onLine(rest);
    },
  };
}

function parseRunner(req: RunTargetRequest, r: ExecResult): RunTargetResult {
  const output = r.stderr.toString("utf8");
  const step = `runner.py ${req.target} --jobs ${req.jobs.join(",")}`;
  assertNotLost(req.host, step, r);
  if (r.timedOut) throw new WorkerStepFailed(req.host, step, `did not finish within ${Math.round(r.durationMs / 1000)} s`);
  let report: { ok: boolean; jobs: RunnerJobResult[] } | undefined;
  try {
    report = JSON.parse(r.stdout.toString("utf8")) as { ok: boolean; jobs: RunnerJobResult[] };
  } catch {
    report = undefined;
  }
  if (!report || !Array.isArray(report.jobs)) {
    const last = output.trim().split("\n").slice(-5).join(" | ");
    const hint = /can't open file|No such file/.test(output) ? ` (${runnerPath(req.bucketId)} is not installed: sync the worker's layout first)` : "";
    throw new WorkerStepFailed(req.host, step, `${last || `exit code ${r.exitCode}`}${hint}`);
  }
  return { host: req.host, ok: report.ok && r.exitCode === 0, jobs: report.jobs, output };
}
