import { MaandError } from "../errors.js";
import { resolveRolloutOrder } from "../kv/rollout-order.js";
import { TARGET_PATTERN } from "../workers/runner.js";
import { escapeText } from "../text/escape.js";

/**
 * `maand job start|stop|restart|reload|run|status` as plain data (issue 11 point 10): the
 * job's active allocations (or those --allocations names) in rollout batches of
 * max_concurrent_upgrades running one Makefile target, or the job's job_control hooks with
 * TARGET set. Pure, like planDeploy.
 */
export interface JobControlRequest {
  job: string;
  target: string;
  allocations?: string[];
  /** status: every allocation at once (it changes nothing, so there is nothing to roll). */
  allAtOnce?: boolean;
}

export interface ControlAllocationInput {
  alloc_id: string;
  worker_ip: string;
  disabled: boolean;
  removed: boolean;
  position: number;
  /** Files reached the worker at least once (synced or promoted). */
  deployed: boolean;
  current_version: string;
}

export interface JobControlInput {
  request: JobControlRequest;
  bucket_id: string;
  job: { name: string; version: string; max_concurrent_upgrades: number; job_control_hooks: string[] } | undefined;
  allocations: ControlAllocationInput[];
  rollout_order: string | undefined;
}

export interface JobControlPlan {
  job: string;
  target: string;
  /** makefile: runner.py <target> on each allocation; job_control: the job's hooks with TARGET. */
  mode: "makefile" | "job_control";
  hooks: string[];
  rollout_order: string[];
  rollout_order_source: "kv" | "default";
  batches: Array<{ batch_index: number; batch_count: number; items: Array<{ alloc_id: string; worker_ip: string; current_version: string; new_version: string }> }>;
}

/** The verbs that change whether the job runs; `run` takes any Makefile target. */
export const CONTROL_VERBS = ["start", "stop", "restart", "reload"] as const;

export function planJobControl(input: JobControlInput): JobControlPlan {
  const { request: r } = input;
  const name = escapeText(r.job);
  if (!input.job) throw new MaandError(`unknown job ${name}; run 'maand build' if it was added to the workspace`);
  if (!TARGET_PATTERN.test(r.target)) throw new MaandError(`target ${JSON.stringify(r.target)}: expected letters, digits, _ . @ + / - (not starting with -)`);
  const active = input.allocations.filter((a) => !a.removed && !a.disabled).sort((a, b) => a.position - b.position);
  if (!input.allocations.some((a) => a.deployed)) {
    throw new MaandError(`job ${name} was never deployed, so its workers have no files to run ${r.target} in: run 'maand deploy --jobs ${name}' first`);
  }
  let selected = active;
  if (r.allocations) {
    const known = new Set(active.map((a) => a.worker_ip));
    const unknown = r.allocations.filter((ip) => !known.has(ip));
    if (unknown.length) throw new MaandError(`--allocations ${escapeText(unknown.join(","))}: not an active allocation of job ${name} (active: ${[...known].join(", ") || "none"})`);
    selected = active.filter((a) => r.allocations!.includes(a.worker_ip));
  }
  const never = selected.filter((a) => !a.deployed).map((a) => a.worker_ip);
  if (never.length) throw new MaandError(`job ${name} was never deployed to ${never.join(", ")}: run 'maand deploy --jobs ${name}' first (or leave ${never.length === 1 ? "it" : "them"} out with --allocations)`);
  const { order, source } = resolveRolloutOrder(active.map((a) => a.worker_ip), input.rollout_order);
  const inOrder = order.filter((ip) => selected.some((a) => a.worker_ip === ip)).map((ip) => selected.find((a) => a.worker_ip === ip)!);
  const width = r.allAtOnce ? Math.max(1, inOrder.length) : Math.max(1, input.job.max_concurrent_upgrades);
  const batches: JobControlPlan["batches"] = [];
  for (let i = 0; i < inOrder.length; i += width) {
    batches.push({
      batch_index: batches.length,
      batch_count: 0,
      items: inOrder.slice(i, i + width).map((a) => ({ alloc_id: a.alloc_id, worker_ip: a.worker_ip, current_version: a.current_version, new_version: input.job!.version })),
    });
  }
  for (const b of batches) b.batch_count = batches.length;
  return {
    job: input.job.name,
    target: r.target,
    mode: input.job.job_control_hooks.length ? "job_control" : "makefile",
    hooks: input.job.job_control_hooks,
    rollout_order: order,
    rollout_order_source: source,
    batches,
  };
}
