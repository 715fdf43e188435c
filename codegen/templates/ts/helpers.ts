// maand hook SDK, TypeScript helpers: the note's helper tables, hand-written (in
// codegen/templates/ts/helpers.ts) on top of the generated api* functions, one per openapi.json
// operation. Lines marked "codegen:strip" exist only in the template, for editors.
import { apiAcquireSemaphore, apiDeleteKv, apiDeleteSecret, apiGetKv, apiListDemands, apiListKeys } from "../../../sdk-ts/maand.ts"; // codegen:strip
import { apiPutKv, apiPutSecret, apiReleaseSemaphore, apiSemaphoreStatus, unwrap, MaandApiError } from "../../../sdk-ts/maand.ts"; // codegen:strip
import { ENV, errorBody, jobName } from "../../../sdk-ts/maand.ts"; // codegen:strip

export const NAMESPACES: Readonly<Record<string, string>> = {}; // codegen:value
export const ROLLOUT_ORDER_KEY: string = ""; // codegen:value
export const KEY_NOT_FOUND_CODE: string = ""; // codegen:value

/**
 * The key does not exist: judged by the error code, since 404 is also what a wrong
 * ALLOCATION_ID or an unknown route gets.
 */
async function isKeyNotFound(res: Response): Promise<boolean> {
  return !res.ok && (await errorBody(res)).code === KEY_NOT_FOUND_CODE;
}

function jobNamespace(kind: string, job = jobName()): string {
  if (!job) throw new MaandApiError(undefined, `${ENV.job} is not set: run this inside a maand hook`);
  return (NAMESPACES[kind] ?? "").replace("{job}", job);
}

/** KV values are strings; anything else is stored as its JSON text. */
const asValue = (value: unknown): string => (typeof value === "string" ? value : JSON.stringify(value));

// KV

/** GET the key; the Response's json() is {namespace, key, value} on 200. kvGet is this function, as in the original. */
export const getStoreValue = (namespace: string, key: string) => apiGetKv({ namespace, key });

/**
 * The plaintext value. A missing key throws MaandApiError, like the Python SDK, unless a
 * fallback is given: `getKvValue(ns, key, undefined)` or `getKvValue(ns, key, "")`. Every other
 * error throws.
 */
export async function getKvValue(namespace: string, key: string): Promise<string>;
export async function getKvValue<D>(namespace: string, key: string, fallback: D): Promise<string | D>;
export async function getKvValue(namespace: string, key: string, ...fallback: unknown[]): Promise<unknown> {
  const res = await getStoreValue(namespace, key);
  if (fallback.length > 0 && (await isKeyNotFound(res))) return fallback[0];
  return (await unwrap(res)).value;
}

/** Override this job's rollout order for the coming deploy (pre_deploy or cli only). */
export const putRolloutOrder = (order: readonly string[] | string) =>
  apiPutKv({ namespace: jobNamespace("job_meta"), key: ROLLOUT_ORDER_KEY, value: typeof order === "string" ? order : order.join(",") });

/** GET this job's rollout_order key; returns the Response, as the original did. */
export const getRolloutOrder = () => getStoreValue(jobNamespace("job_meta"), ROLLOUT_ORDER_KEY);

/** The rollout order stored for this job ([] when none is set). */
export async function rolloutOrder(): Promise<string[]> {
  const value = await getKvValue(jobNamespace("job_meta"), ROLLOUT_ORDER_KEY, undefined);
  return value ? value.split(",").filter((ip) => ip) : [];
}

export const putJobVariable = (key: string, value: unknown, ttl = 0) =>
  apiPutKv({ namespace: jobNamespace("job_vars"), key, value: asValue(value), ttl });

export const putJobSecret = (key: string, value: unknown, ttl = 0) =>
  apiPutSecret({ namespace: jobNamespace("job_secrets"), key, value: asValue(value), ttl });

export const deleteJobVariable = (key: string) => apiDeleteKv({ namespace: jobNamespace("job_vars"), key });

export const deleteJobSecret = (key: string) => apiDeleteSecret({ namespace: jobNamespace("job_secrets"), key });

/** {namespaces: {namespace: keys}}: vars/job/<job> or secrets/job/<job>; without `namespace`, both (names only). */
export const listJobKeys = (namespace?: string) => apiListKeys(namespace === undefined ? {} : { namespace });

// Demands and semaphores

export const listHookDemands = () => apiListDemands();

/**
 * Block until this allocation holds a slot. capacity undefined = the semaphore's existing
 * capacity, else 1; timeoutSeconds undefined = 600. Release it in a `finally`.
 */
export const acquireSemaphore = (name: string, capacity?: number, timeoutSeconds?: number) =>
  apiAcquireSemaphore({ name, capacity, timeout_seconds: timeoutSeconds });

export const releaseSemaphore = (name: string) => apiReleaseSemaphore({ name });

export const semaphoreStatus = (name: string) => apiSemaphoreStatus({ name });
