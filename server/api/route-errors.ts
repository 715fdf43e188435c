import { API_ERRORS, type ApiErrorName } from "./errors.js";
import type { RouteName } from "./routes.js";

/** Errors every route can answer (header, auth and body checks in the HTTP layer). */
export const COMMON_ERRORS: readonly ApiErrorName[] = [
  "foreignHost",
  "missingAllocationId",
  "missingEvent",
  "missingCommand",
  "eventMismatch",
  "commandMismatch",
  "invalidJson",
  "invalidInput",
  "missingToken",
  "invalidToken",
  "invalidAllocationId",
  "payloadTooLarge",
  "unsupportedMediaType",
];

const KEYED: readonly ApiErrorName[] = ["namespaceAndKeyRequired", "unauthorizedNamespace"];
const WRITE: readonly ApiErrorName[] = [...KEYED, "healthCheckReadOnly"];

/** Errors specific to each route, beyond COMMON_ERRORS. */
export const ROUTE_ERRORS: Record<RouteName, readonly ApiErrorName[]> = {
  getKv: [...KEYED, "keyNotFound"],
  putKv: [...WRITE, "invalidRolloutOrder"],
  deleteKv: WRITE,
  putSecret: WRITE,
  deleteSecret: WRITE,
  listKeys: ["unauthorizedNamespace"],
  listDemands: [],
  acquireSemaphore: ["semaphoreTimeout", "semaphoreConflict"],
  releaseSemaphore: ["semaphoreConflict"],
  semaphoreStatus: [],
};

/** Every error a route can answer, grouped by status, in catalogue order. */
export function routeErrorsByStatus(route: RouteName): Map<number, ApiErrorName[]> {
  const names = new Set<ApiErrorName>([...COMMON_ERRORS, ...ROUTE_ERRORS[route]]);
  const byStatus = new Map<number, ApiErrorName[]>();
  for (const name of Object.keys(API_ERRORS) as ApiErrorName[]) {
    if (!names.has(name)) continue;
    const status = API_ERRORS[name].status;
    byStatus.set(status, [...(byStatus.get(status) ?? []), name]);
  }
  return new Map([...byStatus].sort(([a], [b]) => a - b));
}
