import { relative } from "node:path";
import { EXIT, MaandError } from "../errors.js";
import { inPlanOrder, type StepRecord } from "../rollout/events.js";
import type { DeployResult } from "./result.js";

/** --sync-only cannot start anything: every allocation that still needs a first start is named. */
export class SyncOnlyRefused extends MaandError {
  constructor(readonly allocations: ReadonlyArray<{ job: string; worker: string; reason: string }>) {
    super(
      `--sync-only syncs and promotes without running any lifecycle target, but ${allocations.length} allocation${allocations.length === 1 ? " needs" : "s need"} a start:\n` +
        allocations.map((a) => `  ${a.worker} (job ${a.job}, ${a.reason})`).join("\n") +
        "\nrun 'maand deploy' without --sync-only (or with --jobs for the other jobs)",
    );
  }

  override jsonDetail(): unknown {
    return { allocations: this.allocations };
  }
}

/** The workers the plan needs failed the check before anything changed; every problem is listed. */
export class DeployCheckFailed extends MaandError {
  constructor(readonly problems: ReadonlyArray<{ host: string; problems: readonly string[]; unreachable: boolean }>, removedWorkers: ReadonlySet<string>) {
    const gone = problems.filter((p) => removedWorkers.has(p.host)).map((p) => p.host);
    super(
      `${problems.length} worker${problems.length === 1 ? "" : "s"} not ready, nothing was changed:\n` +
        problems.map((p) => `  ${p.host}: ${p.problems.join("; ")}`).join("\n") +
        (gone.length ? `\n  ${gone.join(", ")} left the workspace; if ${gone.length === 1 ? "it is" : "they are"} gone for good, 'maand gc' forgets ${gone.length === 1 ? "its" : "their"} allocations` : ""),
      problems.some((p) => p.unreachable) ? EXIT.unreachable : EXIT.failure,
    );
  }

  override jsonDetail(): unknown {
    return { workers: this.problems };
  }
}

/** Some step failed: every failed allocation with worker, job, step, exit code and its last lines. */
export class DeployFailed extends MaandError {
  constructor(readonly result: DeployResult, bucketRoot: string) {
    const failed = failedSteps(result);
    super(describe(result, failed, bucketRoot), failed.some((s) => s.unreachable) ? EXIT.unreachable : EXIT.stepFailed);
  }

  override jsonDetail(): unknown {
    return { run_id: this.result.run_id, failed: failedSteps(this.result) };
  }
}

/** Ctrl-C: running hooks and remote commands were stopped; nothing uncommitted was kept. */
export class DeployInterrupted extends MaandError {
  constructor(readonly result: DeployResult) {
    super(`interrupted: deploy ${result.run_id} stopped; what was promoted before stays, nothing uncommitted was kept (rerun 'maand deploy' to finish)`, EXIT.interrupted);
  }

  override jsonDetail(): unknown {
    return { run_id: this.result.run_id };
  }
}

export const failedSteps = (r: DeployResult): StepRecord[] => inPlanOrder(r.steps.filter((s) => s.status === "failed" || s.status === "timeout"));

function describe(result: DeployResult, failed: StepRecord[], bucketRoot: string): string {
  const jobs = result.jobs.filter((j) => j.status === "failed");
  const lines = [`deploy ${result.run_id} failed: ${jobs.length} job${jobs.length === 1 ? "" : "s"} (${jobs.map((j) => j.job).join(", ")})`];
  for (const s of failed) {
    const code = s.exit_code === null ? "" : `, exit code ${s.exit_code}`;
    lines.push(`  ${s.worker} (job ${s.job}, ${s.step} ${s.name}${s.phase ? `, ${s.phase}` : ""}${s.batch_count > 1 ? `, batch ${s.batch_index + 1}/${s.batch_count}` : ""}${code}): ${s.error ?? s.status}`);
    for (const t of s.tail) lines.push(`    | ${t}`);
  }
  for (const j of jobs) if (j.error && !failed.some((s) => s.job === j.job)) lines.push(`  job ${j.job}: ${j.error}`);
  const notRun = result.jobs.filter((j) => j.status === "not_run").map((j) => j.job);
  if (notRun.length) lines.push(`  not started (a wave before them failed): ${notRun.join(", ")}`);
  lines.push(`  rerun 'maand deploy' to finish: what was promoted is skipped; events: ${relative(bucketRoot, result.events_file) || result.events_file}`);
  return lines.join("\n");
}
