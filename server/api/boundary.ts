import { TRPCError } from "@trpc/server";
import { MaandError } from "../errors.js";
import { ApiError, apiError } from "./errors.js";
import { SemaphoreConflict, SemaphoreTimeout, SemaphoreWaitAborted } from "./semaphores.js";
import type { RouteDef } from "./routes.js";
import { HealthCheckWriteDenied, KvKeyNotFound, NamespaceDenied } from "../kv/access.js";
import { InvalidRolloutOrder } from "../kv/rollout-order.js";

interface Issue {
  path: PropertyKey[];
  message: string;
  code?: string;
}

const hasIssues = (e: unknown): e is { issues: Issue[] } =>
  typeof e === "object" && e !== null && Array.isArray((e as { issues?: unknown }).issues);

/** Converts anything thrown by a procedure (or by tRPC around it) to a catalogue error. */
export function toApiError(err: unknown, route: RouteDef | undefined): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof TRPCError) {
    // tRPC's input parser fails with BAD_REQUEST; its output parser with INTERNAL_SERVER_ERROR,
    // over the same kind of issues: the output is ours, never the client's fault. runOperation
    // (the HTTP path) answers an invalid output with the same internal error.
    if (hasIssues(err.cause)) return err.code === "BAD_REQUEST" ? validationError(err.cause.issues, route) : apiError("internal", { cause: err });
    return err.cause === undefined ? apiError("internal", { cause: err }) : toApiError(err.cause, route);
  }
  if (hasIssues(err)) return validationError(err.issues, route);
  if (err instanceof NamespaceDenied) return apiError("unauthorizedNamespace", { detail: err.reason, cause: err });
  if (err instanceof HealthCheckWriteDenied) {
    return apiError("healthCheckReadOnly", { detail: "health_check hooks only read KV; write vars and secrets in pre_deploy or post_deploy hooks", cause: err });
  }
  if (err instanceof KvKeyNotFound) return apiError("keyNotFound", { detail: `${err.namespace} has no key ${err.key}`, cause: err });
  if (err instanceof InvalidRolloutOrder) return apiError("invalidRolloutOrder", { message: err.message, cause: err });
  if (err instanceof SemaphoreTimeout) return apiError("semaphoreTimeout", { cause: err });
  if (err instanceof SemaphoreConflict || err instanceof SemaphoreWaitAborted) return apiError("semaphoreConflict", { cause: err });
  // A user-fixable server-side problem (e.g. an unreadable secrets/kv.key): say what it is.
  if (err instanceof MaandError) return apiError("internal", { message: err.message, cause: err });
  return apiError("internal", { cause: err });
}

/** A namespace or key that is absent, empty or not a string: the note's "Both ... are required". */
const missingKeyField = (i: Issue): boolean =>
  (i.path[0] === "namespace" || i.path[0] === "key") && (i.code === "invalid_type" || i.code === "too_small");

function validationError(issues: Issue[], route: RouteDef | undefined): ApiError {
  if (route?.keyed && issues.some(missingKeyField)) return apiError("namespaceAndKeyRequired");
  // One failed value can break several checks with the same message (1e300 is neither an
  // integer nor in range): say it once.
  const lines = issues.map((i) => {
    const message = i.message.replace(/^Invalid input: /, "");
    return i.path.length ? `${i.path.map(String).join(".")}: ${message}` : message;
  });
  const detail = [...new Set(lines)].join("; ");
  return apiError("invalidInput", { message: `Invalid input: ${detail}` });
}
