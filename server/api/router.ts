import { t } from "./trpc.js";
import * as kv from "./procedures/kv.js";
import { listDemands } from "./procedures/demands.js";
import { acquireSemaphore, releaseSemaphore, semaphoreStatus } from "./procedures/semaphores.js";
import type { z } from "zod";
import { mutationProcedure, queryProcedure, type Operation } from "./operation.js";
import { ROUTES, ROUTE_NAMES, type RouteName } from "./routes.js";

/** Every operation of the runtime API, by operationId (routes.ts): the one table both projections read. */
export const OPERATIONS = {
  getKv: kv.getKv,
  putKv: kv.putKv,
  deleteKv: kv.deleteKv,
  putSecret: kv.putSecret,
  deleteSecret: kv.deleteSecret,
  listKeys: kv.listKeys,
  listDemands,
  acquireSemaphore,
  releaseSemaphore,
  semaphoreStatus,
} as const satisfies { [K in RouteName]: { name: K } };

type Operations = typeof OPERATIONS;
type InputOf<K extends RouteName> = Operations[K] extends Operation<infer I, z.ZodType, K> ? I : never;
type OutputOf<K extends RouteName> = Operations[K] extends Operation<z.ZodType, infer O, K> ? O : never;
type ProcedureOf<K extends RouteName> = (typeof ROUTES)[K]["method"] extends "GET"
  ? ReturnType<typeof queryProcedure<InputOf<K>, OutputOf<K>>>
  : ReturnType<typeof mutationProcedure<InputOf<K>, OutputOf<K>>>;

/**
 * One tRPC procedure per operation, derived from OPERATIONS and ROUTES (a query for GET routes,
 * a mutation otherwise), so the router cannot list a route the HTTP layer does not serve or the
 * other way round. The procedures have no middleware: test/api/equivalence.test.ts fails if one
 * gains any, since the HTTP layer runs the operations without tRPC's middleware chain.
 */
function procedures(): { [K in RouteName]: ProcedureOf<K> } {
  const out: Record<string, unknown> = {};
  for (const name of ROUTE_NAMES) {
    const op = OPERATIONS[name] as Operation;
    out[name] = ROUTES[name].method === "GET" ? queryProcedure(op) : mutationProcedure(op);
  }
  return out as { [K in RouteName]: ProcedureOf<K> };
}

/** The runtime API router. Stateless: per-server state (KV session, semaphores) arrives through the context. */
export const apiRouter = t.router(procedures());

/** In-process caller for unit tests and tools: `createApiCaller(ctx).getKv({...})`. */
export const createApiCaller = t.createCallerFactory(apiRouter);
