import type { IncomingMessage, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import type { ApiContext, ApiServices } from "../context.js";
import { toApiError } from "../boundary.js";
import { ApiError, apiError } from "../errors.js";
import type { InvocationRegistry } from "../registry.js";
import { ACCEPTED_HOSTNAMES, HEADERS } from "../request-headers.js";
import { LIMITS } from "../limits.js";
import { authenticate, type AuthMode } from "./authenticate.js";
import { hasBody, isJsonContentType, parseJsonObject, parseQuery, readBody } from "./body.js";
import { answerClientError, answerOnSocket } from "./client-error.js";
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
  return createHttpListeners(deps).request;
}

/** Every listener the API's node:http server needs, sharing one route table. */
export interface HttpListeners {
  request(req: IncomingMessage, res: ServerResponse): void;
  /**
   * `Expect: 100-continue`: a body declared over the limit is refused with 413 before the
   * client sends it (Node would otherwise answer 100 Continue first); anything else goes on.
   */
  checkContinue(req: IncomingMessage, res: ServerResponse): void;
  /** CONNECT (Node hands it over as a raw socket; unanswered, the connection would just drop). */
  connect(req: IncomingMessage, socket: Socket): void;
  clientError(err: Error, socket: Socket): void;
}

export function createHttpListeners(deps: HandlerDeps): HttpListeners {
  const routes = buildRouteTable();
  const allowFor = (path: string | undefined): string => {
    const methods = path === undefined ? undefined : routes.lookup(normalizePath(path));
    return methods ? allowHeader(methods) : routes.allMethods;
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!acceptedHost(req.headers.host)) throw apiError("foreignHost");
    const target = req.url ?? "/";
    // An absolute-form target names the host too; it must pass the same check as Host.
    const authority = authorityOf(target);
    if (authority !== undefined && !acceptedHost(authority)) throw apiError("foreignHost");
    const url = originForm(target);
    const q = url.indexOf("?");
    const path = normalizePath(q < 0 ? url : url.slice(0, q));
    const methods = routes.lookup(path);
    if (!methods) throw apiError("routeNotFound", { message: `Not found: no route ${truncate(path)}` });
    const route = methods.get(req.method ?? "");
    if (!route) {
      throw new MethodNotAllowed(
        apiError("methodNotAllowed", { message: `Method ${truncate(req.method ?? "")} is not allowed on ${path} (allowed: ${allowHeader(methods)})` }),
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

  const request = (req: IncomingMessage, res: ServerResponse): void => {
    handle(req, res).catch((err: unknown) => {
      if (err instanceof MethodNotAllowed) return sendError(res, err.error, { Allow: err.allow });
      const apiErr = err instanceof ApiError ? err : toApiError(err, undefined);
      // A body we did not read (too large) would otherwise be drained over a kept-alive connection.
      const close = apiErr.status === 413 ? { Connection: "close" } : undefined;
      sendError(res, apiErr, close);
    });
  };

  return {
    request,
    checkContinue(req, res) {
      const declared = Number(req.headers["content-length"]);
      if (Number.isFinite(declared) && declared > LIMITS.maxBodyBytes) {
        sendError(res, apiError("payloadTooLarge"), { Connection: "close" });
        return;
      }
      res.writeContinue();
      request(req, res);
    },
    connect(_req, socket) {
      const allow = routes.allMethods;
      answerOnSocket(socket, apiError("methodNotAllowed", { message: `Method CONNECT is not allowed (allowed: ${allow})` }), { Allow: allow });
    },
    clientError: (err, socket) => answerClientError(err, socket, allowFor),
  };
}

/** "/kv/" names the same route as "/kv". */
function normalizePath(path: string): string {
  return path.length > 1 && path.endsWith("/") ? path.slice(0, -1) : path;
}

/** The authority of an absolute-form request target (`http://127.0.0.1:8080/kv`), if it is one. */
function authorityOf(target: string): string | undefined {
  const m = /^https?:\/\/([^/?#]*)/i.exec(target);
  return m ? m[1] : undefined;
}

/** A body the client stopped sending halfway is malformed input, not a server failure. */
async function readBodyOr400(req: IncomingMessage): Promise<Buffer> {
  try {
    return await readBody(req, LIMITS.maxBodyBytes);
  } catch (err) {
    throw err instanceof ApiError ? err : apiError("invalidJson", { cause: err });
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
