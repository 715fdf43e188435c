import type { PlanSource } from "../hooks/plan-input.js";
import { loadDeployInput } from "../deploy/plan-input.js";
import type { RenderStep } from "../deploy/stage.js";
import { readDeployStates } from "../store/deploy-state.js";
import { assertKnownNames } from "./filters.js";

export type DeploymentState = "new" | "changed" | "promoted" | "disabled" | "removed";

/** `maand cat deployments`: per allocation what is promoted, what the build wants, and how the last deploy went. */
export interface DeploymentRow {
  job: string;
  worker_ip: string;
  state: DeploymentState;
  current_version: string;
  new_version: string;
  current_hash: string;
  previous_hash: string;
  /** What a deploy would promote now (job files and certs; "" for a removed allocation). */
  new_hash: string;
  running: number;
  last_deploy_at: number;
  last_result: string;
  last_step: string;
  last_error: string;
  alloc_id: string;
}

/**
 * Read-only: the same input the deploy planner reads (so "changed" here is what `maand deploy`
 * would act on: templates rendered with `render`, deployRenderStep's), without its interpreter probes.
 */
export function catDeployments(source: PlanSource, render: RenderStep, filter: { jobs?: readonly string[]; workers?: readonly string[] } = {}): DeploymentRow[] {
  const input = loadDeployInput(source, {}, { render });
  const states = readDeployStates(source.db);
  assertKnownNames("--jobs", "job", filter.jobs, input.jobs.map((j) => j.job));
  assertKnownNames("--workers", "worker", filter.workers, input.jobs.flatMap((j) => j.allocations.map((a) => a.worker_ip)));
  const rows: DeploymentRow[] = [];
  for (const j of input.jobs) {
    if (filter.jobs?.length && !filter.jobs.includes(j.job)) continue;
    for (const a of j.allocations) {
      if (filter.workers?.length && !filter.workers.includes(a.worker_ip)) continue;
      const s = states.get(a.alloc_id);
      const state: DeploymentState = a.removed
        ? "removed"
        : a.disabled
          ? "disabled"
          : a.current_hash === ""
            ? "new"
            : a.current_hash !== a.new_hash || a.current_version !== j.version
              ? "changed"
              : "promoted";
      rows.push({
        job: j.job,
        worker_ip: a.worker_ip,
        state,
        current_version: a.current_version,
        new_version: a.removed ? a.current_version : j.version,
        current_hash: a.current_hash,
        previous_hash: s?.previous_hash ?? "",
        new_hash: a.new_hash,
        running: a.running ? 1 : 0,
        last_deploy_at: s?.last_deploy_at ?? 0,
        last_result: s?.last_result ?? "",
        last_step: s?.last_step ?? "",
        last_error: s?.last_error ?? "",
        alloc_id: a.alloc_id,
      });
    }
  }
  return rows;
}
