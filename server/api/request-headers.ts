/**
 * What a request to the runtime API carries besides its input: header names, the JSON content
 * type, the bearer scheme, and the host it is addressed to. Defined once for the HTTP layer,
 * openapi.json, the SDK generators and the tests.
 */

/** Request header names as clients send them (HTTP header names are case-insensitive). */
export const HEADERS = {
  allocationId: "X-ALLOCATION-ID",
  event: "EVENT",
  command: "COMMAND",
  authorization: "Authorization",
  contentType: "Content-Type",
} as const;

export const JSON_CONTENT_TYPE = "application/json";

/** The only address the runtime API listens on. */
export const RUNTIME_API_HOST = "127.0.0.1";
/**
 * Host header values (without port) the API answers. A web page that rebinds its own DNS name to
 * 127.0.0.1 sends its name as Host; refusing it keeps browsers out even in hook_api_auth =
 * "headers" mode, where allocation IDs (derived from job and IP) would be the only credential.
 */
export const ACCEPTED_HOSTNAMES: readonly string[] = [RUNTIME_API_HOST, "localhost"];
export const BEARER_SCHEME = "Bearer";
