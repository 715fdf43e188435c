import type { BucketContext } from "../bucket/context.js";
import { planHookRun } from "./plan.js";
import { hookTargets, loadHookPlanInput } from "./plan-input.js";
import type { HookRunPlan } from "./plan-types.js";
import type { HookRunResult } from "./result.js";
import { runHooksAllOrNothing } from "./run.js";
import type { RunOptions } from "./session.js";

/** Every job's post_build hooks, upstream jobs first (deployment_seq); undefined when there are none. */
export function planPostBuildHooks(ctx: BucketContext): HookRunPlan | undefined {
  const targets = hookTargets(ctx.db, "post_build");
  if (!targets.length) return undefined;
  return planHookRun(loadHookPlanInput(ctx, { event: "post_build", targets }));
}

/**
 * post_build hooks (SPEC §5), run after the build transaction committed, in their own session.
 * Their KV writes persist in a second transaction at the end of the pass, only if all
 * succeeded; a failure throws, so `maand build` exits non-zero while the committed build stays.
 * Plug into runBuild as `{ afterCommit: (ctx) => runPostBuildHooks(ctx) }`.
 */
export async function runPostBuildHooks(
  ctx: BucketContext,
  options: RunOptions & { plan?: HookRunPlan } = {},
): Promise<HookRunResult | undefined> {
  const plan = options.plan ?? planPostBuildHooks(ctx);
  return plan ? runHooksAllOrNothing(ctx, plan, options) : undefined;
}
