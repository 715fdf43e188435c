import type { DeployPlan } from "../../server/deploy/plan-types.js";
import type { DeployResult } from "../../server/deploy/result.js";
import { renderTable } from "./table.js";

interface Row {
  job: string;
  worker: string;
  action: string;
  result: string;
  steps: string;
  duration: string;
}

/**
 * The table a deploy ends with: one row per allocation the plan touched (skipped jobs in one
 * line each), its action and what came of it: ok / promoted, the failed step and why, or why
 * it did not run.
 */
export function renderDeploySummary(plan: DeployPlan, result: DeployResult): string {
  const rows: Row[] = [];
  const jobs = new Map(result.jobs.map((j) => [j.job, j]));
  for (const w of plan.waves) {
    for (const j of w.jobs) {
      const jr = jobs.get(j.job);
      if (!j.needs_work || jr?.status === "skipped") {
        rows.push({ job: j.job, worker: "-", action: "skip", result: "nothing to do", steps: "-", duration: "-" });
        continue;
      }
      for (const a of j.allocations) {
        const steps = result.steps.filter((s) => s.alloc_id === a.alloc_id && s.job === j.job);
        const bad = steps.find((s) => s.status === "failed" || s.status === "timeout");
        const stopped = steps.find((s) => s.status === "interrupted");
        let text: string;
        if (bad) text = `failed: ${bad.step} ${bad.name}: ${bad.error ?? bad.status}`;
        else if (stopped) text = "interrupted";
        else if (jr?.status === "ok") text = jr.promoted.includes(a.worker_ip) ? "ok, promoted" : a.action === "skip" ? "unchanged" : "ok";
        else if (jr?.status === "not_run") text = "not run (an earlier wave failed)";
        else text = a.action === "skip" ? "unchanged" : `not promoted (job ${jr?.status ?? "not run"})`;
        const ran = steps.filter((s) => s.status !== "skipped");
        rows.push({
          job: j.job,
          worker: a.worker_ip,
          action: a.action,
          result: text,
          steps: ran.length ? ran.map((s) => (s.step === "hook" ? s.event ?? s.name : s.name)).join(",") : "-",
          duration: ran.length ? `${(ran.reduce((n, s) => n + s.duration_ms, 0) / 1000).toFixed(2)} s` : "-",
        });
      }
    }
  }
  const table = renderTable(rows, [
    { field: "job", title: "JOB" },
    { field: "worker", title: "ALLOCATION" },
    { field: "action", title: "ACTION" },
    { field: "result", title: "RESULT", maxWidth: Number.POSITIVE_INFINITY },
    { field: "steps", title: "STEPS" },
    { field: "duration", title: "TIME" },
  ]);
  return `${table}\ndeploy ${result.run_id}: ${result.status} in ${(result.duration_ms / 1000).toFixed(2)} s (update_seq ${result.update_seq}); events in ${result.events_file}`;
}
