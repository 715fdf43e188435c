import type { RestartPolicy } from "../workspace/model.js";
import type { AllocationInput, DeployAction, DeployReason, LifecycleTarget } from "./plan-types.js";

export interface Decision {
  action: DeployAction;
  reason: DeployReason;
  target: LifecycleTarget | null;
}

export interface DecideOptions {
  version: string;
  restartPolicy: RestartPolicy;
  force: boolean;
  syncOnly: boolean;
}

/**
 * THE rule for what one allocation needs (SPEC §10, issue 11 point 6), used by the planner and
 * again by apply once staging has computed the real content hash (templates render per
 * allocation after pre_deploy): the same inputs always give the same action.
 */
export function decide(a: AllocationInput, o: DecideOptions): Decision {
  if (a.removed) {
    // Stopped and taken off once; an allocation that never reached the worker has nothing there.
    const onWorker = !a.cleaned && (a.running || a.synced_hash !== "" || a.applied_hash !== "" || a.current_hash !== "");
    if (!onWorker) return skip("removed");
    return o.syncOnly ? skip("sync_only") : { action: "stop", reason: "removed", target: "stop" };
  }
  if (a.disabled) {
    if (!a.running) return skip("disabled");
    return o.syncOnly ? skip("sync_only") : { action: "stop", reason: "disabled", target: "stop" };
  }
  if (!a.running) return { action: "start", reason: a.applied_hash === "" ? "new" : "stopped", target: "start" };
  if (o.force) return { action: "restart", reason: "forced", target: "restart" };
  const promoted = a.current_hash === a.new_hash && a.current_version === o.version;
  if (promoted) return skip("promoted");
  if (a.applied_hash === a.new_hash && a.applied_version === o.version) return { action: "sync", reason: "applied", target: null };
  const reason: DeployReason = a.current_hash !== a.new_hash ? "content_changed" : "version_changed";
  if (o.syncOnly) return { action: "sync", reason, target: null };
  switch (o.restartPolicy) {
    case "never":
      return { action: "sync", reason, target: null };
    case "reload":
      return { action: "reload", reason, target: "reload" };
    default:
      return { action: "restart", reason, target: "restart" };
  }
}

const skip = (reason: DeployReason): Decision => ({ action: "skip", reason, target: null });

/** Whether promoting would change the allocation's promoted state (disabled ones are promoted too). */
export function needsPromotion(a: AllocationInput, version: string): boolean {
  return !a.removed && (a.current_hash !== a.new_hash || a.current_version !== version);
}
