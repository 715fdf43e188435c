import { t } from "./trpc.js";
import * as kv from "./procedures/kv.js";
import { listDemands } from "./procedures/demands.js";
import { acquireSemaphore, releaseSemaphore, semaphoreStatus } from "./procedures/semaphores.js";
import { mutationProcedure, queryProcedure } from "./operation.js";
import type { RouteName } from "./routes.js";

/** Every operation of the runtime API, by operationId (routes.ts). */
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

/**
 * The runtime API router: one procedure per operation, a query for GET routes and a mutation
 * otherwise. Stateless: per-server state (KV session, semaphores) arrives through the context.
 */
export const apiRouter = t.router({
  getKv: queryProcedure(OPERATIONS.getKv),
  putKv: mutationProcedure(OPERATIONS.putKv),
  deleteKv: mutationProcedure(OPERATIONS.deleteKv),
  putSecret: mutationProcedure(OPERATIONS.putSecret),
  deleteSecret: mutationProcedure(OPERATIONS.deleteSecret),
  listKeys: queryProcedure(OPERATIONS.listKeys),
  listDemands: queryProcedure(OPERATIONS.listDemands),
  acquireSemaphore: mutationProcedure(OPERATIONS.acquireSemaphore),
  releaseSemaphore: mutationProcedure(OPERATIONS.releaseSemaphore),
  semaphoreStatus: queryProcedure(OPERATIONS.semaphoreStatus),
} satisfies Record<RouteName, unknown>);

export type ApiRouter = typeof apiRouter;
/** In-process caller for unit tests and tools: `createApiCaller(ctx).getKv({...})`. */
export const createApiCaller = t.createCallerFactory(apiRouter);
