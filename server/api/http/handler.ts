import type { IncomingMessage, ServerResponse } from "node:http";
import type { ApiContext, ApiServices } from "../context.js";
import { toApiError } from "../boundary.js";
import { ApiError, apiError } from "../errors.js";
import type { InvocationRegistry } from "../registry.js";
import { ACCEPTED_HOSTNAMES, HEADERS, LIMITS } from "../routes.js";
import { authenticate, type AuthMode } from "./authenticate.js";
import { hasBody, isJsonContentType, parseJsonObject, parseQuery, readBody } from "./body.js";
import { allowHeader, buildRouteTable, type RouteEntry } from "./dispatch.js";
import { sendError, sendJson } from "./respond.js";

export interface HandlerDeps {
  services: ApiServices;
  registry: InvocationRegistry;
  auth: AuthMode;
}

const contentTypeHeader = HEADERS.contentType.toLowerCase();

/**
 * The runtime API's request pipeline: route, content type, headers and token, body (size,
 * UTF-8, JSON), then the operation (input parser, handler, output parser; see operation.ts).
 * Every failure leaves as a catalogue error; nothing a client sends reaches the 500 path, and
 * no response carries a stack trace.
 */
export function createRequestHandler(deps: HandlerDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const routes = buildRouteTable();

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!acceptedHost(req.headers.host)) throw apiError("foreignHost");
    const url = originForm(req.url ?? "/");
    const q = url.indexOf("?");
    let path = q < 0 ? url : url.slice(0, q);
    if (path.length > 1 && path.endsWith("/")) path = path.slice(0, -1);
    const methods = routes.lookup(path);
    if (!methods) throw apiError("routeNotFound", `Not found: no route ${truncate(path)}`);
    const route = methods.get(req.method ?? "");
    if (!route) {
      throw new MethodNotAllowed(
        apiError("methodNotAllowed", `Method ${truncate(req.method ?? "")} is not allowed on ${path} (allowed: ${allowHeader(methods)})`),
        allowHeader(methods),
      );
    }
    const bodySent = hasBody(req);
    if (bodySent && !isJsonContentType(req.headers[contentTypeHeader] as string | undefined)) throw apiError("unsupportedMediaType");
    const invocation = authenticate(req.headers, deps.registry, deps.auth);
    const body = bodySent ? parseJsonObject(await readBodyOr400(req)) : undefined;
    // The process may have ended (and been unregistered, its semaphores released) while its
    // last request's body was still arriving: acting for it now would leave a slot held, or
    // a KV write made, by an invocation that no longer exists.
    if (deps.registry.get(invocation.allocId) !== invocation) throw apiError("invalidAllocationId");
    const input = inputOf(route, q < 0 ? "" : url.slice(q), body);
    const ctx: ApiContext = { invocation, services: deps.services };
    if (route.def.waits) ctx.signal = clientGone(req, res);
    sendJson(res, 200, await route.call(ctx, input));
  }

  return (req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (err instanceof MethodNotAllowed) return sendError(res, err.error, { Allow: err.allow });
      const apiErr = err instanceof ApiError ? err : toApiError(err, undefined);
      // A body we did not read (too large) would otherwise be drained over a kept-alive connection.
      const close = apiErr.status === 413 ? { Connection: "close" } : undefined;
      sendError(res, apiErr, close);
    });
  };
}

/** A body the client stopped sending halfway is malformed input, not a server failure. */
async function readBodyOr400(req: IncomingMessage): Promise<Buffer> {
  try {
    return await readBody(req, LIMITS.maxBodyBytes);
  } catch (err) {
    throw err instanceof ApiError ? err : apiError("invalidJson", undefined, err);
  }
}

function inputOf(route: RouteEntry, search: string, body: Record<string, unknown> | undefined): Record<string, unknown> {
  if (!route.def.queryInput) return body ?? {};
  const query = parseQuery(search);
  return body ? { ...query, ...body } : query;
}

/** Fires when the connection closes before we answered (or already has): the waiter is gone. */
function clientGone(req: IncomingMessage, res: ServerResponse): AbortSignal {
  const controller = new AbortController();
  if (res.destroyed || req.socket.destroyed) {
    controller.abort();
    return controller.signal;
  }
  res.once("close", () => {
    if (!res.writableFinished) controller.abort();
  });
  return controller.signal;
}

/**
 * The request target as a path and query. HTTP/1.1 servers must accept the absolute form
 * (`GET http://127.0.0.1:8080/kv?...`), which clients configured with a proxy send.
 */
function originForm(target: string): string {
  if (target.startsWith("/")) return target;
  const m = /^https?:\/\/[^/?#]*/i.exec(target);
  if (!m) return target;
  const rest = target.slice(m[0].length);
  return rest === "" || rest.startsWith("?") ? `/${rest}` : rest;
}

/** No Host (HTTP/1.0) is fine: only browsers are the concern, and they always send one. */
function acceptedHost(host: string | undefined): boolean {
  if (host === undefined) return true;
  const name = host.startsWith("[") ? host.slice(0, host.indexOf("]") + 1) : host.split(":")[0]!;
  return ACCEPTED_HOSTNAMES.includes(name.toLowerCase());
}

const truncate = (s: string): string => (s.length > 200 ? `${s.slice(0, 200)}...` : s);

class MethodNotAllowed extends Error {
  constructor(
    readonly error: ApiError,
    readonly allow: string,
  ) {
    super(error.message);
  }
}
