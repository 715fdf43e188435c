// maand hook SDK, TypeScript runtime: hand-written in codegen/templates/ts/runtime.ts.
//
// Zero dependencies (node:http + process.env); runs under Bun and Node >= 20. In the template, each
// constant marked "codegen:value" is left empty; the generator fills it from
// openapi/openapi.json and the router's and hook engine's definitions, so no header name,
// route path or variable name is written by hand.

import { Agent, request as httpRequest } from "node:http";

/** Names of the variables the hook engine exports (server/hooks/env-names.ts). */
export const ENV: Readonly<Record<string, string>> = {}; // codegen:value
/**
 * Request header -> the environment variables it is read from; the first non-empty one wins.
 * The COMMAND header carries the hook name: env HOOK, with env COMMAND only as a fallback,
 * because the API binds each token to the (allocation, event, hook) it was issued for.
 */
export const HEADER_ENV: Readonly<Record<string, readonly string[]>> = {}; // codegen:value
export const AUTH_HEADER: string = ""; // codegen:value
export const AUTH_SCHEME: string = ""; // codegen:value
export const CONTENT_TYPE_HEADER: string = ""; // codegen:value
export const JSON_CONTENT_TYPE: string = ""; // codegen:value
export const DEFAULT_HOST: string = ""; // codegen:value
export const DEFAULT_PORT: number = 0; // codegen:value

export type Env = Readonly<Record<string, string | undefined>>;

/** A Response whose json() is typed with the operation's 200 body. */
export interface TypedResponse<T> extends Response {
  json(): Promise<T>;
}

/**
 * An API call failed: `status` is the HTTP status (undefined when the API could not be reached);
 * `apiMessage` and `code` are the server's (the design note's exact message), `detail` its
 * explanation when it sent one; `message`, what is printed, holds both.
 */
export class MaandApiError extends Error {
  readonly apiMessage: string;

  constructor(
    readonly status: number | undefined,
    message: string,
    readonly code?: string,
    readonly response?: Response,
    readonly detail?: string,
  ) {
    super(detail ? `${message}: ${detail}` : message);
    this.name = "MaandApiError";
    this.apiMessage = message;
  }
}

export function apiBaseUrl(env: Env = process.env): string {
  const host = env[ENV.apiHost] || DEFAULT_HOST;
  const port = env[ENV.apiPort] || String(DEFAULT_PORT);
  if (!/^\d+$/.test(port)) throw new MaandApiError(undefined, `${ENV.apiPort} must be a port number, got ${JSON.stringify(port)}`);
  return `http://${host}:${port}`;
}

/**
 * The scope headers (allocation, event, hook), the bearer token when there is one, and the
 * content type when a JSON body is sent. A scope header whose variables are all unset is left
 * out, so the server answers with the note's "... header is missing" message.
 */
export function requestHeaders(hasBody: boolean, env: Env = process.env, headerEnv = HEADER_ENV): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, variables] of Object.entries(headerEnv)) {
    const value = variables.map((v) => env[v]).find((v) => v);
    if (value) headers[name] = value;
  }
  const token = env[ENV.apiToken];
  if (token) headers[AUTH_HEADER] = `${AUTH_SCHEME} ${token}`;
  if (hasBody) headers[CONTENT_TYPE_HEADER] = JSON_CONTENT_TYPE;
  return headers;
}

/** Query string for a GET or DELETE: inputs travel as parameters, as openapi.json declares them. */
export function encodeQuery(query: object | undefined): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined && v !== null) params.append(k, String(v));
  const s = params.toString();
  return s ? `?${s}` : "";
}

/**
 * One API call. There is deliberately no client timeout: a semaphore acquire may wait up to an
 * hour, and maand already bounds every hook by its timeout_seconds.
 */
export async function request<T>(method: string, path: string, input: { query?: object; body?: object } = {}): Promise<TypedResponse<T>> {
  const url = apiBaseUrl() + path + encodeQuery(input.query);
  const body = input.body === undefined ? undefined : JSON.stringify(input.body);
  try {
    return (await send(method, url, requestHeaders(body !== undefined), body)) as TypedResponse<T>;
  } catch (err) {
    throw new MaandApiError(undefined, `cannot reach the maand runtime API at ${url}: ${(err as Error).message}`);
  }
}

/**
 * Keep-alive connections reused by every call of the process (a new TCP connection per call
 * cost ~0.9 ms). Created on first use, so importing the SDK opens nothing.
 */
let keepAlive: Agent | undefined;

/**
 * node:http, not fetch: Node's fetch gives up on any response whose headers take longer than
 * 300 s (UND_ERR_HEADERS_TIMEOUT), which would cut a semaphore wait (default 600 s) short.
 * Bun implements node:http as well. A reused connection the server closed meanwhile (idle
 * timeout) fails before any answer arrives: the call is sent again once on a fresh one, which
 * is safe because the server never saw it.
 */
async function send(method: string, url: string, headers: Record<string, string>, body: string | undefined): Promise<Response> {
  keepAlive ??= new Agent({ keepAlive: true });
  try {
    return await sendOnce(method, url, headers, body, keepAlive);
  } catch (err) {
    if (!(err as { reusedSocket?: boolean }).reusedSocket) throw err;
    return sendOnce(method, url, headers, body, keepAlive);
  }
}

function sendOnce(method: string, url: string, headers: Record<string, string>, body: string | undefined, agent: Agent): Promise<Response> {
  return new Promise<Response>((resolve, reject) => {
    const length = body === undefined ? {} : { "Content-Length": String(Buffer.byteLength(body)) };
    const req = httpRequest(url, { method, headers: { ...headers, ...length }, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("error", reject);
      res.on("end", () => {
        const out = new Headers();
        for (const [name, value] of Object.entries(res.headers)) {
          if (value !== undefined) out.set(name, Array.isArray(value) ? value.join(", ") : value);
        }
        const status = res.statusCode ?? 0;
        // A Response with one of these statuses must not have a body.
        const text = status === 204 || status === 304 ? null : Buffer.concat(chunks).toString("utf8");
        resolve(new Response(text, { status, statusText: res.statusMessage ?? "", headers: out }));
      });
    });
    req.on("error", (err: NodeJS.ErrnoException) => {
      // Node's documented pattern for a keep-alive race: only a reused socket reset before any
      // answer is retried; a fresh connection's failure is real.
      const reset = err.code === "ECONNRESET" || err.code === "EPIPE";
      reject(Object.assign(err, { reusedSocket: reset && (req as { reusedSocket?: boolean }).reusedSocket === true }));
    });
    req.end(body);
  });
}

/** (message, code, detail) of an error response; falls back to the raw text or status text. */
export async function errorBody(res: Response): Promise<{ message: string; code?: string; detail?: string }> {
  const text = await res.clone().text();
  try {
    const body = JSON.parse(text) as { message?: unknown; code?: unknown; detail?: unknown };
    if (typeof body?.message === "string") {
      return {
        message: body.message,
        code: typeof body.code === "string" ? body.code : undefined,
        detail: typeof body.detail === "string" ? body.detail : undefined,
      };
    }
  } catch {
    // not JSON: use the text
  }
  return { message: text.trim() || res.statusText };
}

/** Throws MaandApiError (status + the server's message) unless the response is 2xx/3xx. */
export async function raiseForStatus<R extends Response>(res: R): Promise<R> {
  if (res.status >= 200 && res.status < 400) return res;
  const { message, code, detail } = await errorBody(res);
  throw new MaandApiError(res.status, message, code, res, detail);
}

/** The typed body of a successful response; throws MaandApiError otherwise. */
export async function unwrap<T>(res: TypedResponse<T> | Promise<TypedResponse<T>>): Promise<T> {
  return (await raiseForStatus(await res)).json();
}

// Context: what the hook engine exports to every invocation. Values are the environment's
// strings (undefined when unset), the same in both SDKs.
export const allocationId = (): string | undefined => process.env[ENV.allocationId];
export const allocationIp = (): string | undefined => process.env[ENV.allocationIp];
export const allocationIndex = (): string | undefined => process.env[ENV.allocationIndex];
export const jobName = (): string | undefined => process.env[ENV.job];
export const hookEvent = (): string | undefined => process.env[ENV.event];
export const hookName = (): string | undefined => process.env[ENV.hook];
export const isAllocationDisabled = (): boolean => process.env[ENV.disabled] === "1";

/**
 * True for exactly one invocation per run. maand exports ONE_SHOT for the first allocation of
 * the first batch; the note's BATCH_INDEX/ALLOCATION_INDEX formula is only the fallback for
 * older engines, as it picks nobody when a custom rollout order moves index 0 to a later batch.
 */
export function isOneShot(env: Env = process.env): boolean {
  const oneShot = env[ENV.oneShot];
  if (oneShot) return oneShot === "1";
  return env[ENV.batchIndex] === "0" && env[ENV.allocationIndex] === "0";
}
