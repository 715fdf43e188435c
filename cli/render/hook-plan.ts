import { RUNTIME_ENV } from "../../server/hooks/env-names.js";
import { invocationCount, type HookRunPlan, type RolloutOrderIgnored } from "../../server/hooks/plan-types.js";
import { ROLLOUT_ORDER_KEY } from "../../server/kv/namespaces.js";
import { escapeText } from "../../server/text/escape.js";
import { renderTable } from "./table.js";

/**
 * `maand hooks --dry-run`: per step a compact table (allocation, batch, interpreter, one-shot,
 * timeout); with --env also every invocation's full environment. `planJson` is the same plan as
 * `--json` prints it (snake_case; indexes 0-based and named *_index).
 */
export function renderPlan(plan: HookRunPlan, options: { env?: boolean } = {}): string {
  const lines = [`plan: ${plan.event} hooks, ${plan.steps.length} step(s), ${invocationCount(plan)} invocation(s); nothing is run`];
  for (const step of plan.steps) {
    lines.push("", `job ${step.job}  hook ${step.hook}  script ${step.script}`);
    lines.push(`  rollout order (${step.rolloutOrderSource}): ${step.rolloutOrder.join(",") || "(no allocations)"}`);
    const ignored = step.rolloutOrderIgnored;
    if (ignored) lines.push(`  ${ignoredOrderText(ignored)}; stored: ${ignored.stored.join(",") || "(empty)"}`);
    lines.push(`  batch width ${step.width} (${step.widthSource}), ${step.batches.length} batch(es)`);
    const rows = step.batches.flatMap((b) =>
      b.invocations.map((inv) => ({
        allocation: inv.workerIp,
        batch: `${b.index + 1}/${step.batches.length}`,
        interpreter: step.interpreter,
        one_shot: inv.oneShot ? "yes" : "",
        timeout: `${step.timeoutSeconds} s`,
        note: inv.disabled ? "disabled" : "",
      })),
    );
    if (rows.length) {
      const table = renderTable(rows, [
        { field: "allocation", title: "ALLOCATION" },
        { field: "batch", title: "BATCH" },
        { field: "interpreter", title: "INTERPRETER", maxWidth: Number.POSITIVE_INFINITY },
        { field: "one_shot", title: "ONE-SHOT" },
        { field: "timeout", title: "TIMEOUT" },
        { field: "note", title: "" },
      ]);
      lines.push(...table.split("\n").map((l) => `  ${l}`));
    }
    if (options.env) {
      for (const b of step.batches) {
        for (const inv of b.invocations) {
          lines.push(`  ${inv.workerIp} (alloc ${inv.allocId}, index ${inv.allocationIndex}):`);
          for (const [k, v] of Object.entries(inv.env)) lines.push(`    ${k}=${v}`);
        }
      }
    }
  }
  lines.push("", options.env ? `${RUNTIME_ENV.join(", ")} are set when each hook starts.` : "Every invocation's environment: add --env.");
  // Values come from the catalog and KV (versions, a stored rollout order).
  return lines.map(escapeText).join("\n");
}

/** Why the operator's order did not apply, worded once for --dry-run and the line before a run. */
export function ignoredOrderText(ignored: RolloutOrderIgnored): string {
  return `${ROLLOUT_ORDER_KEY} in KV ignored (${ignored.reason}); using catalog order`;
}

export function planJson(plan: HookRunPlan) {
  return {
    event: plan.event,
    deploy_phase: plan.deployPhase,
    bucket_root: plan.bucketRoot,
    invocations: invocationCount(plan),
    steps: plan.steps.map((s) => ({
      job: s.job,
      hook: s.hook,
      event: s.event,
      script: s.script,
      interpreter: s.interpreter,
      timeout_seconds: s.timeoutSeconds,
      rollout_order: s.rolloutOrder,
      rollout_order_source: s.rolloutOrderSource,
      ...(s.rolloutOrderIgnored ? { rollout_order_ignored: s.rolloutOrderIgnored } : {}),
      width_source: s.widthSource,
      width: s.width,
      batches: s.batches.map((b) => ({
        batch_index: b.index,
        workers: b.workers,
        invocations: b.invocations.map((i) => ({
          alloc_id: i.allocId,
          worker_ip: i.workerIp,
          allocation_index: i.allocationIndex,
          disabled: i.disabled,
          batch_index: i.batchIndex,
          one_shot: i.oneShot,
          env: i.env,
        })),
      })),
    })),
  };
}
