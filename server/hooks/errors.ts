import { relative } from "node:path";
import { EXIT, MaandError } from "../errors.js";
import { failedInvocations, type HookRunResult, type InvocationResult } from "./result.js";

/** Exit status of a command stopped by Ctrl-C (128 + SIGINT). */
export const INTERRUPTED_EXIT_CODE = EXIT.interrupted;

/** Something that must be fixed before any hook can start (missing interpreter or script). */
export class HookPreflightError extends MaandError {
  constructor(readonly problems: readonly string[]) {
    super(`no hook was started:\n${problems.map((p) => `  ${p}`).join("\n")}`, 1);
  }
}

/** A run in which at least one invocation failed: names every failed allocation. Exit 3. */
export class HookRunFailed extends MaandError {
  constructor(readonly result: HookRunResult, bucketRoot: string) {
    super(describeFailure(result, bucketRoot), EXIT.stepFailed);
  }

  override jsonDetail(): unknown {
    return {
      run_id: this.result.runId,
      failed: failedInvocations(this.result).map((f) => ({ worker_ip: f.workerIp, job: f.job, hook: f.hook, event: f.event, batch_index: f.batchIndex, exit_code: f.exitCode, error: describeInvocationFailure(f), tail: f.tail })),
      logs: this.result.logsDir,
    };
  }
}

/** Ctrl-C: running hooks were stopped and nothing was persisted. */
export class HookRunInterrupted extends MaandError {
  constructor(readonly result: HookRunResult) {
    super(`interrupted: stopped the running hooks of run ${result.runId}; no KV change was persisted`, INTERRUPTED_EXIT_CODE);
  }
}

export function describeInvocationFailure(i: InvocationResult): string {
  if (i.error) return i.error;
  if (i.exitCode !== null) return `exit code ${i.exitCode}`;
  return `killed by ${i.signal ?? "a signal"}`;
}

function describeFailure(result: HookRunResult, bucketRoot: string): string {
  const failed = failedInvocations(result);
  const skipped = result.invocations.filter((i) => i.status === "skipped").length;
  const lines = [`hook run ${result.runId} failed on ${failed.length} allocation${failed.length === 1 ? "" : "s"}:`];
  for (const f of failed) {
    lines.push(`  ${f.workerIp} (job ${f.job}, ${f.hook}, ${f.event}, batch ${f.batchIndex + 1}/${f.batchCount}): ${describeInvocationFailure(f)}`);
    for (const t of f.tail) lines.push(`    | ${t}`);
  }
  if (skipped) lines.push(`  ${skipped} invocation${skipped === 1 ? "" : "s"} not started (later batches or hooks)`);
  lines.push(`  logs: ${relative(bucketRoot, result.logsDir) || result.logsDir}`);
  return lines.join("\n");
}
