import type { BucketContext } from "../bucket/context.js";
import { HookRunFailed, HookRunInterrupted } from "./errors.js";
import { trapInterrupt } from "./interrupt.js";
import { invocationCount, type HookRunPlan } from "./plan-types.js";
import type { HookRunResult } from "./result.js";
import { openHookSession, type RunOptions } from "./session.js";

/**
 * Runs a plan in a fresh session and persists its KV writes only when every invocation
 * succeeded (`maand hooks`, post_build). On failure or Ctrl-C the writes are rolled back and a
 * typed error says which allocations failed (exit 1) or that the run was interrupted (130).
 * The API is stopped in every case, after the last hook process is gone.
 */
export async function runHooksAllOrNothing(ctx: BucketContext, plan: HookRunPlan, options: RunOptions = {}): Promise<HookRunResult> {
  if (invocationCount(plan) === 0) {
    return { runId: "", status: "ok", logsDir: "", invocations: [] };
  }
  const trap = trapInterrupt(options.signal);
  const session = await openHookSession(ctx);
  try {
    const result = await session.run(plan, { ...options, signal: trap.signal });
    if (result.status === "ok" && !trap.signal.aborted) {
      session.kv.commit();
      return result;
    }
    session.kv.rollback();
    if (result.status === "interrupted" || trap.signal.aborted) throw new HookRunInterrupted({ ...result, status: "interrupted" });
    throw new HookRunFailed(result, ctx.paths.root);
  } catch (err) {
    session.kv.rollback();
    throw err;
  } finally {
    await session.close();
    trap.dispose();
  }
}
