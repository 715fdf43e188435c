import type { BucketContext } from "../bucket/context.js";
import { interpreterResolver } from "../hooks/interpreters.js";
import type { PlanSource } from "../hooks/plan-input.js";
import { applyDeploy, type ApplyOptions } from "./apply.js";
import { planDeploy } from "./plan.js";
import { loadDeployInput, type DeployInputOptions } from "./plan-input.js";
import { deployRenderStep } from "./render-step.js";
import type { DeployPlan, DeployPlanInput, DeployRequest } from "./plan-types.js";
import type { DeployResult } from "./result.js";

/** Reads the input and plans: what `--dry-run` prints and what a real deploy starts from. */
export function planDeployment(source: PlanSource, request: DeployRequest, options: DeployInputOptions): { input: DeployPlanInput; plan: DeployPlan } {
  const input = loadDeployInput(source, request, options);
  return { input, plan: planDeploy(input) };
}

/** `maand deploy`: plan, then apply with the same resolver and render step (each interpreter probed once, each template parsed once). */
export async function runDeploy(ctx: BucketContext, request: DeployRequest, options: ApplyOptions & { onPlan?: (plan: DeployPlan) => void } = {}): Promise<{ plan: DeployPlan; result: DeployResult }> {
  const resolver = options.resolver ?? interpreterResolver({ jobsDir: ctx.paths.jobs });
  const render = options.render ?? (await deployRenderStep(ctx.db));
  const { input, plan } = planDeployment(ctx, request, { resolver, render });
  options.onPlan?.(plan);
  const result = await applyDeploy(ctx, plan, input, { ...options, resolver, render });
  return { plan, result };
}
