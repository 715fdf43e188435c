import { isIP } from "node:net";
import { getJob, listHooks } from "../store/catalog.js";
import { MaandError, UsageError } from "../errors.js";
import { isValidHost } from "../workspace/names.js";
import { canonicalHost } from "../workspace/hosts.js";
import { planHookRun } from "./plan.js";
import { hookTargets, loadHookPlanInput, type PlanInputOptions, type PlanSource } from "./plan-input.js";
import type { HookRunPlan } from "./plan-types.js";
import { escapeText } from "../text/escape.js";

export interface CliHookRequest {
  hook: string;
  job?: string;
  /** Raw --allocations value: comma-separated worker addresses. */
  allocations?: string;
  /** --concurrency: the batch width for this run instead of the manifest's. */
  width?: number;
}

/**
 * `maand hooks <hook> [job] [--allocations ...]`: checks the request against the catalog with
 * errors that say what exists, then plans the `cli` run. Without a job the hook runs on every
 * job that registers it for cli, upstream jobs first.
 */
export function planCliHooks(source: PlanSource, req: CliHookRequest, options: PlanInputOptions = {}): HookRunPlan {
  const { db } = source;
  if (!req.hook.trim()) throw new UsageError('<hook> is empty: expected a hook name like hook_migrate');
  if (req.job !== undefined && !req.job.trim()) throw new UsageError("[job] is empty: expected a job name, or leave it out to run the hook on every job registering it");
  const allocations = parseAllocations(req.allocations);
  // Command-line words go into messages: a name holding ESC or a newline must not act on the terminal.
  const job = req.job === undefined ? "" : escapeText(req.job);
  const hook = escapeText(req.hook);
  const cliHooks = listHooks(db, { event: "cli" });
  const known = [...new Set(cliHooks.map((h) => h.hook))].sort();
  const registered = known.length ? known.join(", ") : "none";

  if (req.job !== undefined) {
    if (!getJob(db, req.job)) throw new MaandError(`unknown job ${job}; run 'maand build' if it was added to the workspace`);
    const hooks = listHooks(db, { job: req.job, hook: req.hook });
    if (!hooks.length) {
      const ofJob = [...new Set(listHooks(db, { job: req.job }).map((h) => h.hook))];
      throw new MaandError(`job ${job} has no hook ${hook} (its hooks: ${ofJob.join(", ") || "none"})`);
    }
    if (!hooks.some((h) => h.event === "cli")) {
      throw new MaandError(`hook ${hook} of job ${job} is not registered for cli (executed_on: ${hooks.map((h) => h.event).join(", ")}); add "cli" to its executed_on to run it with maand hooks`);
    }
  } else if (!known.includes(req.hook)) {
    const elsewhere = listHooks(db, { hook: req.hook });
    throw new MaandError(
      elsewhere.length
        ? `hook ${hook} is not registered for cli by any job (executed_on: ${[...new Set(elsewhere.map((h) => h.event))].join(", ")})`
        : `unknown hook ${hook} (hooks registered for cli: ${registered})`,
    );
  }

  const targets = hookTargets(db, "cli", { hook: req.hook, ...(req.job !== undefined ? { job: req.job } : {}) });
  const request = { event: "cli" as const, targets, ...(allocations ? { allocations } : {}), ...(req.width !== undefined ? { width: req.width } : {}) };
  return planHookRun(loadHookPlanInput(source, request, options));
}

function parseAllocations(raw: string | undefined): string[] | undefined {
  if (raw === undefined) return undefined;
  const list = raw.split(",").map((s) => s.trim());
  const bad = list.filter((s) => !s || !(isIP(s) || isValidHost(s)));
  if (!list.length || bad.length) {
    throw new UsageError(`--allocations ${JSON.stringify(raw)}: expected comma-separated worker addresses (e.g. 10.0.0.1,10.0.0.2)`);
  }
  // Workers are stored with IPv6 in canonical form: any spelling of an address names them.
  return [...new Set(list.map(canonicalHost))];
}
