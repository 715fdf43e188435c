import type { HookEvent } from "../workspace/model.js";
import type { EventHookOptions } from "./hook-steps.js";
import type { JobRun } from "./job-run.js";
import type { JobInput, JobPlan } from "./plan-types.js";

/**
 * A job's hooks for one deploy event. The hook engine, and the runtime API and router behind it,
 * load only for jobs that have some: a deploy of hook-less jobs pays for neither.
 */
export async function eventHooks(run: JobRun, plan: JobPlan, input: JobInput, event: HookEvent, o: EventHookOptions = {}): Promise<"ok" | "failed" | "interrupted"> {
  if (!plan.hooks[event]?.length) return "ok";
  const { runEventHooks } = await import("./hook-steps.js");
  return runEventHooks(run, plan, input, event, o);
}
