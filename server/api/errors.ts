/**
 * The runtime API's error catalogue: every status, stable code and message a client can get,
 * defined once. Messages marked "note" are the design note's, to the letter; SDKs and tests
 * import them from here. Lower layers throw their own domain errors; the procedure boundary
 * (boundary.ts) and the HTTP layer convert them into an ApiError from this catalogue.
 */

import { ACCEPTED_HOSTNAMES, BEARER_SCHEME, HEADERS, JSON_CONTENT_TYPE } from "./request-headers.js";
import { LIMITS } from "./limits.js";

export interface ApiErrorDef {
  status: number;
  /** Stable machine-readable code, sent as `code`. */
  code: string;
  /** The default message, sent as `message` unless the error carries a more specific one. */
  message: string;
}

const def = (status: number, code: string, message: string): ApiErrorDef => ({ status, code, message });

export const API_ERRORS = {
  // note
  missingAllocationId: def(400, "MISSING_ALLOCATION_ID", `${HEADERS.allocationId} header is missing`),
  invalidAllocationId: def(404, "INVALID_ALLOCATION_ID", "Invalid allocation ID"),
  namespaceAndKeyRequired: def(400, "NAMESPACE_AND_KEY_REQUIRED", "Both namespace and key are required"),
  unauthorizedNamespace: def(400, "UNAUTHORIZED_NAMESPACE", "Invalid or unauthorized namespace"),
  keyNotFound: def(404, "KEY_NOT_FOUND", "KV get operation failed"),
  healthCheckReadOnly: def(400, "HEALTH_CHECK_READ_ONLY", "KV writes are not allowed during health_check"),
  semaphoreTimeout: def(408, "SEMAPHORE_TIMEOUT", "Timed out waiting for semaphore"),
  semaphoreConflict: def(409, "SEMAPHORE_CONFLICT", "Semaphore acquire or release failed"),
  unsupportedMediaType: def(415, "UNSUPPORTED_MEDIA_TYPE", `${HEADERS.contentType} must be ${JSON_CONTENT_TYPE}`),
  invalidJson: def(400, "INVALID_JSON", "Invalid JSON format"),
  // SPEC §8 additions
  missingEvent: def(400, "MISSING_EVENT", `${HEADERS.event} header is missing`),
  missingCommand: def(400, "MISSING_COMMAND", `${HEADERS.command} header is missing`),
  eventMismatch: def(400, "EVENT_MISMATCH", `${HEADERS.event} header does not match the running hook`),
  commandMismatch: def(400, "COMMAND_MISMATCH", `${HEADERS.command} header does not match the running hook`),
  missingToken: def(401, "UNAUTHORIZED", `${HEADERS.authorization}: ${BEARER_SCHEME} <token> header is missing`),
  invalidToken: def(401, "UNAUTHORIZED", "Invalid bearer token"),
  payloadTooLarge: def(413, "PAYLOAD_TOO_LARGE", `Request body is larger than ${LIMITS.maxBodyBytes / (1024 * 1024)} MiB`),
  foreignHost: def(403, "FOREIGN_HOST", `Host header must be ${ACCEPTED_HOSTNAMES.join(" or ")} (with the port)`),
  methodNotAllowed: def(405, "METHOD_NOT_ALLOWED", "Method not allowed"),
  routeNotFound: def(404, "NOT_FOUND", "Not found"),
  // Requests Node's HTTP parser refuses before any route sees them (server.ts clientError).
  malformedRequest: def(400, "MALFORMED_REQUEST", "Malformed HTTP request"),
  headersTooLarge: def(431, "HEADERS_TOO_LARGE", "Request headers are too large"),
  requestTimeout: def(408, "REQUEST_TIMEOUT", "The request did not arrive in time"),
  invalidInput: def(400, "INVALID_INPUT", "Invalid input"),
  invalidRolloutOrder: def(400, "INVALID_ROLLOUT_ORDER", "rollout_order must list workers of the job, comma-separated, without repeats"),
  internal: def(500, "INTERNAL_ERROR", "Internal error"),
} as const satisfies Record<string, ApiErrorDef>;

export type ApiErrorName = keyof typeof API_ERRORS;

/**
 * The JSON body of every error response: the note's exact `message` (clients compare it), the
 * stable `code`, and, where there is more to say, a `detail` naming the namespace, the rule and
 * the fix ("vars/job/pg is readable only when a hook of job api declares a demand on job pg").
 */
export interface ApiErrorBody {
  message: string;
  code: string;
  detail?: string;
}

export interface ApiErrorOptions {
  /** Replaces the catalogue message (only for errors the note does not define, e.g. invalid input). */
  message?: string;
  /** The explanation sent as `detail`; never a secret value. */
  detail?: string;
  cause?: unknown;
}

/** The boundary error: knows its status and how to become a response body. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly detail?: string;

  constructor(
    readonly def: ApiErrorDef,
    options: ApiErrorOptions = {},
  ) {
    super(options.message ?? def.message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "ApiError";
    this.status = def.status;
    this.code = def.code;
    if (options.detail !== undefined) this.detail = options.detail;
  }

  toBody(): ApiErrorBody {
    return this.detail === undefined ? { message: this.message, code: this.code } : { message: this.message, code: this.code, detail: this.detail };
  }
}

export const apiError = (name: ApiErrorName, options?: ApiErrorOptions): ApiError => new ApiError(API_ERRORS[name], options);
