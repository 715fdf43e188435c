import type { AllocationPlan, DeployPlan, JobPlan } from "../../server/deploy/plan-types.js";
import { escapeText } from "../../server/text/escape.js";
import { renderTable } from "./table.js";

interface Row {
  wave: string;
  job: string;
  worker: string;
  action: string;
  reason: string;
  version: string;
  batch: string;
}

const words = (s: string) => s.replace(/_/g, " ");

/** Where an allocation's target runs: "new 1/2" (phase, batch i/n), "-" when it runs none. */
function batchOf(job: JobPlan, a: AllocationPlan): string {
  const b = job.batches.find((x) => x.items.some((i) => i.alloc_id === a.alloc_id));
  if (b) return `${b.phase} ${b.batch_index + 1}/${b.batch_count}`;
  if (job.lifecycle === "job_control" && (a.action === "start" || a.action === "restart" || a.action === "reload")) return "job_control";
  return "-";
}

/** What each start/update batch of the job waits for before the next one starts. */
function gateNote(plan: DeployPlan, j: JobPlan): string {
  if (j.health_gate) return `health gate after each start/update batch: ${j.health_gate.join(", ")}`;
  if (!plan.request.health_gate) return "no health gate (--no-health-gate)";
  return "no health gate";
}

/**
 * `maand deploy --dry-run`: one row per allocation (wave, job, worker, action, reason, version
 * change, lifecycle batch), then a line per job that has work: lifecycle, rollout order, hooks,
 * and the health gate its start/update batches wait for.
 */
export function renderDeployPlan(plan: DeployPlan): string {
  const c = plan.counts;
  const head =
    `deploy plan: ${plan.waves.length} wave(s), ${plan.waves.reduce((n, w) => n + w.jobs.length, 0)} job(s); ` +
    `start ${c.start}, restart ${c.restart}, reload ${c.reload}, sync ${c.sync}, stop ${c.stop}, skip ${c.skip}; ` +
    `${plan.workers.length} worker(s) to contact${plan.request.force ? "; --force" : ""}${plan.request.sync_only ? "; --sync-only" : ""}${plan.request.health_gate ? "" : "; --no-health-gate"}`;
  const rows: Row[] = [];
  for (const w of plan.waves) {
    for (const j of w.jobs) {
      for (const a of j.allocations) {
        rows.push({
          wave: String(w.wave_index),
          job: j.job,
          worker: a.worker_ip,
          action: a.action,
          reason: words(a.reason),
          version: a.current_version === a.new_version ? a.new_version : `${a.current_version} -> ${a.new_version}`,
          batch: batchOf(j, a),
        });
      }
    }
  }
  const table = rows.length
    ? renderTable(rows, [
        { field: "wave", title: "WAVE" },
        { field: "job", title: "JOB" },
        { field: "worker", title: "ALLOCATION" },
        { field: "action", title: "ACTION" },
        { field: "reason", title: "REASON" },
        { field: "version", title: "VERSION" },
        { field: "batch", title: "BATCH" },
      ])
    : "(no allocations)";
  const notes: string[] = [];
  for (const w of plan.waves) {
    for (const j of w.jobs) {
      if (j.template_errors?.length) {
        notes.push(`job ${j.job}: templates do not render for ${[...new Set(j.template_errors.map((e) => e.worker_ip))].join(",")} (errors below)`);
      }
      if (!j.needs_work) continue;
      const hooks = Object.entries(j.hooks).map(([e, names]) => `${e}: ${names.join(",")}`);
      notes.push(
        `job ${j.job}: ${j.removed_job ? "left the workspace (stopped from its last deployed snapshot); " : ""}lifecycle ${j.lifecycle}` +
          `, restart_policy ${j.restart_policy}, rollout order (${j.rollout_order_source}) ${j.rollout_order.join(",") || "-"}` +
          `${hooks.length ? `; hooks ${hooks.join("; ")}` : ""}; ${gateNote(plan, j)}`,
      );
    }
  }
  const tail = notes.length ? `\n\n${notes.map(escapeText).join("\n")}` : "\n\nnothing to do: every allocation is promoted";
  return `${escapeText(head)}\n\n${table}${tail}`;
}
