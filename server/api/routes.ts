/**
 * The runtime API's routes, defined once. The router's OpenAPI metadata, the HTTP dispatcher,
 * openapi.json, the SDK generators and the tests all import these.
 */

export type HttpMethod = "GET" | "PUT" | "DELETE" | "POST";

export interface RouteDef {
  method: HttpMethod;
  path: `/${string}`;
  summary: string;
  /** Input carries namespace + key (the note's "Both namespace and key are required" applies). */
  keyed: boolean;
  /** The route may block (semaphore waits): the handler needs to know when the client goes away. */
  waits: boolean;
  /**
   * Input is declared as query parameters (OpenAPI has no body for GET/DELETE); the HTTP layer
   * also accepts it as a JSON body, the note's form.
   */
  queryInput: boolean;
}

const route = (method: HttpMethod, path: `/${string}`, summary: string, flags: Partial<Pick<RouteDef, "keyed" | "waits">> = {}): RouteDef => ({
  method,
  path,
  summary,
  keyed: flags.keyed ?? false,
  waits: flags.waits ?? false,
  queryInput: method === "GET" || method === "DELETE",
});

/** Keys are the tRPC procedure names and the OpenAPI operationIds. */
export const ROUTES = {
  getKv: route("GET", "/kv", "Read a key from an allowed namespace", { keyed: true }),
  putKv: route("PUT", "/kv", "Write a non-secret key under vars/job/<current job> (or rollout_order)", { keyed: true }),
  deleteKv: route("DELETE", "/kv", "Delete a key under vars/job/<current job>", { keyed: true }),
  putSecret: route("PUT", "/kv/secret", "Write an encrypted secret under secrets/job/<current job>", { keyed: true }),
  deleteSecret: route("DELETE", "/kv/secret", "Delete a secret under secrets/job/<current job>", { keyed: true }),
  listKeys: route("GET", "/kv/keys", "List keys under job-level namespaces"),
  listDemands: route("GET", "/demands", "List downstream hooks that depend on this job and hook"),
  acquireSemaphore: route("POST", "/semaphore/acquire", "Block until this allocation holds a semaphore slot", { waits: true }),
  releaseSemaphore: route("POST", "/semaphore/release", "Release a held semaphore slot"),
  semaphoreStatus: route("GET", "/semaphore/status", "Inspect a semaphore's holders and waiters"),
} as const satisfies Record<string, RouteDef>;

export type RouteName = keyof typeof ROUTES;
export const ROUTE_NAMES = Object.keys(ROUTES) as RouteName[];
