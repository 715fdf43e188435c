/**
 * The environment every hook invocation receives (the note's "Environment variables" plus
 * SPEC §7.3), defined once: the planner writes these names, the SDKs and tests read them.
 */
export const HOOK_ENV = {
  allocationId: "ALLOCATION_ID",
  allocationIp: "ALLOCATION_IP",
  allocationIndex: "ALLOCATION_INDEX",
  job: "JOB",
  event: "EVENT",
  command: "COMMAND",
  hook: "HOOK",
  disabled: "DISABLED",
  currentVersion: "CURRENT_VERSION",
  newVersion: "NEW_VERSION",
  apiHost: "HOOK_API_HOST",
  bucketRoot: "BUCKET_ROOT",
  batchAllocations: "BATCH_ALLOCATIONS",
  batchIndex: "BATCH_INDEX",
  batchCount: "BATCH_COUNT",
  deployPhase: "DEPLOY_PHASE",
  rolloutOrder: "ROLLOUT_ORDER",
  rolloutOrderSource: "ROLLOUT_ORDER_SOURCE",
  newAllocations: "NEW_ALLOCATIONS",
  updatedAllocations: "UPDATED_ALLOCATIONS",
  target: "TARGET",
  oneShot: "ONE_SHOT",
  apiPort: "HOOK_API_PORT",
  apiToken: "HOOK_API_TOKEN",
  // The original maand's names for HOOK_API_HOST / HOOK_API_PORT: its clients read the host from
  // JOB_COMMAND_API_HOST and otherwise send Host: 0.0.0.0:8080, which the Host check refuses.
  legacyApiHost: "JOB_COMMAND_API_HOST",
  legacyApiPort: "JOB_COMMAND_API_PORT",
} as const;

/** HOOK_API_HOST: where the runtime API listens (loopback only, SPEC §8). */
export { RUNTIME_API_HOST as HOOK_API_HOST } from "../api/request-headers.js";

/** Set at spawn time, not in the plan: the port is known once the API listens, the token is per process. */
export const RUNTIME_ENV: readonly string[] = [HOOK_ENV.apiPort, HOOK_ENV.legacyApiPort, HOOK_ENV.apiToken];
