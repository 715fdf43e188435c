import type { BucketContext } from "../bucket/context.js";
import { HookRunFailed, HookRunInterrupted } from "./errors.js";
import { trapInterrupt } from "./interrupt.js";
import { invocationCount, type HookRunPlan } from "./plan-types.js";
import type { HookRunResult } from "./result.js";
import { openHookSession, type HookSession, type RunOptions } from "./session.js";

/**
 * A hook session for an owner that commits at its own checkpoints (deploy commits after each
 * job's pre_deploy and after each job; `maand hooks` once at the end): Ctrl-C, SIGTERM and a
 * closed terminal abort `signal`; whatever the owner has not committed when `fn` returns or
 * throws is rolled back; the API is stopped in every case, after the last hook process is gone.
 */
export async function withHookSession<T>(
  ctx: BucketContext,
  fn: (session: HookSession, signal: AbortSignal) => Promise<T>,
  options: { signal?: AbortSignal } = {},
): Promise<T> {
  const trap = trapInterrupt(options.signal);
  const session = await openHookSession(ctx);
  try {
    return await fn(session, trap.signal);
  } finally {
    session.kv.rollback();
    await session.close();
    trap.dispose();
  }
}

/**
 * Runs a plan in a fresh session and persists its KV writes only when every invocation
 * succeeded (`maand hooks`, post_build). On failure or Ctrl-C the writes are rolled back and a
 * typed error says which allocations failed (exit 1) or that the run was interrupted (130).
 */
export async function runHooksAllOrNothing(ctx: BucketContext, plan: HookRunPlan, options: RunOptions = {}): Promise<HookRunResult> {
  if (invocationCount(plan) === 0) {
    return { runId: "", status: "ok", logsDir: "", invocations: [] };
  }
  return withHookSession(
    ctx,
    async (session, signal) => {
      const result = await session.run(plan, { ...options, signal });
      const { writes, writers } = session.kv.pendingSummary();
      if (result.status === "ok" && !signal.aborted) {
        session.kv.commit();
        return { ...result, kv: { writes, allocations: writers, committed: true } };
      }
      const interrupted = result.status === "interrupted" || signal.aborted;
      const kv = { writes, allocations: writers, committed: false, reason: interrupted ? "the run was interrupted" : "the run failed" };
      if (interrupted) throw new HookRunInterrupted({ ...result, status: "interrupted", kv });
      throw new HookRunFailed({ ...result, kv }, ctx.paths.root);
    },
    { signal: options.signal },
  );
}
