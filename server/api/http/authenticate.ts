import type { IncomingHttpHeaders } from "node:http";
import { apiError } from "../errors.js";
import type { Invocation, InvocationRegistry } from "../registry.js";
import { BEARER_SCHEME, HEADERS } from "../request-headers.js";

export type AuthMode = "token" | "headers";

const lower = {
  allocationId: HEADERS.allocationId.toLowerCase(),
  event: HEADERS.event.toLowerCase(),
  command: HEADERS.command.toLowerCase(),
  authorization: HEADERS.authorization.toLowerCase(),
} as const;

const header = (headers: IncomingHttpHeaders, name: string): string | undefined => {
  const v = headers[name];
  const s = (Array.isArray(v) ? v[0] : v)?.trim();
  return s === "" ? undefined : s;
};

function bearerToken(headers: IncomingHttpHeaders): string | undefined {
  const value = header(headers, lower.authorization);
  if (!value) return undefined;
  const space = value.indexOf(" ");
  if (space < 0 || value.slice(0, space).toLowerCase() !== BEARER_SCHEME.toLowerCase()) return undefined;
  const token = value.slice(space + 1).trim();
  return token === "" ? undefined : token;
}

/**
 * The note's header checks, in its order: scope headers, then the bearer token (which names
 * the invocation it was issued to), then the allocation, then EVENT/COMMAND against the
 * running hook. Returns the invocation the request acts for.
 */
export function authenticate(headers: IncomingHttpHeaders, registry: InvocationRegistry, mode: AuthMode): Invocation {
  const allocId = header(headers, lower.allocationId);
  if (!allocId) throw apiError("missingAllocationId");
  const event = header(headers, lower.event);
  if (!event) throw apiError("missingEvent");
  const command = header(headers, lower.command);
  if (!command) throw apiError("missingCommand");
  let inv: Invocation | undefined;
  if (mode === "token") {
    const token = bearerToken(headers);
    if (!token) throw apiError("missingToken");
    // An exact-match lookup: the token is the key, nothing is compared byte by byte in JS.
    const owner = registry.getByToken(token);
    if (!owner) throw apiError("invalidToken");
    // The token is bound to its invocation: another allocation's ID is not this token's.
    inv = owner.allocId === allocId ? owner : undefined;
  } else {
    inv = registry.get(allocId);
  }
  if (!inv) {
    throw apiError("invalidAllocationId", {
      detail: `${HEADERS.allocationId} must be the ALLOCATION_ID of a hook that is running now (the one this script was started with); an ended hook's ID is no longer valid`,
    });
  }
  if (event !== inv.event) throw apiError("eventMismatch", { detail: `the running hook's ${HEADERS.event} is ${inv.event}` });
  if (command !== inv.command) throw apiError("commandMismatch", { detail: `the running hook's ${HEADERS.command} is ${inv.command}` });
  return inv;
}
