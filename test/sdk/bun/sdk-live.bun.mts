// Calls every helper and alias of the generated sdk-ts/maand.ts against a live runtime API.
// Run by test/sdk/live.test.ts under Bun next to a copy of maand.ts, as a hook would be; see
// test/sdk/python/sdk_live.py for the division of labour between this script and the test.
import * as maand from "./maand.ts";
import {
  acquireSemaphore,
  deleteJobSecret,
  deleteJobVariable,
  getKvValue,
  getRolloutOrder,
  getStoreValue,
  listHookDemands,
  listJobKeys,
  MaandApiError,
  putJobSecret,
  putJobVariable,
  putRolloutOrder,
  releaseSemaphore,
  semaphoreStatus,
  unwrap,
  type GetKvResult,
  type ListKeysResult,
  type SemaphoreStatusResult,
  type TypedResponse,
} from "./maand.ts";

interface Spec {
  env: Record<string, string>;
  helpers: string[];
  aliases: Record<string, string>;
  secret: string;
  workers: string[];
  upstream: [string, string];
  unrelated_vars: string;
  upstream_invocation_env: Record<string, string>;
  closed_port: number;
  foreign_allocation_id: string;
}

const SPEC = JSON.parse(process.env.MAAND_TEST_SPEC ?? "{}") as Spec;
const ENV = SPEC.env;
const JOB = process.env[ENV.job!]!;
const VARS = `vars/job/${JOB}`;
const SECRETS = `secrets/job/${JOB}`;
const out: Record<string, unknown> = {};
const sdk = maand as unknown as Record<string, unknown>;

function check(cond: unknown, what: string): void {
  if (!cond) throw new Error(`check failed: ${what}`);
}

const camel = (s: string) => s.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

async function errorOf(call: () => Promise<Response>): Promise<[number | undefined, string, string | undefined]> {
  try {
    await maand.raiseForStatus(await call());
  } catch (e) {
    if (e instanceof MaandApiError) return [e.status, e.apiMessage, e.code];
    throw e;
  }
  throw new Error("expected an error");
}

async function withEnv<T>(changes: Record<string, string | undefined>, fn: () => Promise<T>): Promise<T> {
  const saved = { ...process.env };
  for (const [k, v] of Object.entries(changes)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  try {
    return await fn();
  } finally {
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  }
}

// Every helper exists as camelCase and snake_case; every alias (both spellings) is the same function.
const missing = [...SPEC.helpers.flatMap((h) => [h, camel(h)]), ...Object.keys(SPEC.aliases).flatMap((a) => [a, camel(a)])].filter(
  (n) => typeof sdk[n] !== "function",
);
check(missing.length === 0, `missing helpers: ${missing.join(", ")}`);
for (const h of SPEC.helpers) check(sdk[h] === sdk[camel(h)], `${h} is ${camel(h)}`);
for (const [alias, target] of Object.entries(SPEC.aliases)) {
  check(sdk[alias] === sdk[camel(target)] && sdk[camel(alias)] === sdk[camel(target)], alias);
}

// Context
const context = ["allocation_id", "allocation_ip", "allocation_index", "job_name", "hook_event", "hook_name", "is_allocation_disabled", "is_one_shot"];
out.context = Object.fromEntries(context.map((n) => [n, (sdk[camel(n)] as () => unknown)()]));
out.context_aliases = Object.fromEntries(
  Object.entries(SPEC.aliases)
    .filter(([, t]) => context.includes(t))
    .flatMap(([a]) => [
      [a, (sdk[a] as () => unknown)()],
      [camel(a), (sdk[camel(a)] as () => unknown)()],
    ]),
);

// Variables
let res: TypedResponse<unknown> = await putJobVariable("bun_db_url", "postgres://bun/api");
out.put_variable = [res.status, res.ok, await res.json()];
check((await getKvValue(VARS, "bun_db_url")) === "postgres://bun/api", "getKvValue after put");
check((await getKvValue(VARS, "bun_db_url", undefined)) === "postgres://bun/api", "getKvValue with a fallback, key present");
const stored: TypedResponse<GetKvResult> = await getStoreValue(VARS, "bun_db_url");
const storedBody: GetKvResult = await stored.json();
out.store_value = [stored.status, storedBody];
await maand.raiseForStatus(await maand.kvPut("bun_cfg", { replicas: 2 }, 3600));
// kvGet returns the response, as the original
check(JSON.parse((await unwrap(maand.kvGet(VARS, "bun_cfg"))).value).replicas === 2, "kvPut of an object stores JSON text");
check((await unwrap(maand.kv_get_response(VARS, "bun_cfg"))).value === '{"replicas":2}', "kv_get_response");
await unwrap(putJobVariable("bun_tmp", "x"));
res = await deleteJobVariable("bun_tmp");
out.delete_variable = [res.status, await res.json()];
check((await getKvValue(VARS, "bun_tmp", undefined)) === undefined, "deleted variable reads as the fallback");
await unwrap(maand.kv_put("bun_tmp2", "y"));
await unwrap(maand.kvDelete("bun_tmp2"));
check((await maand.kv_get(VARS, "bun_tmp2")).status === 404, "kvDelete");
out.missing_value = (await getKvValue(VARS, "never_written", undefined)) ?? null;
out.missing_default = await getKvValue(VARS, "never_written", "fallback");

// Secrets round-trip
res = await putJobSecret("bun_password", SPEC.secret);
out.put_secret = [res.status, await res.json()];
check((await getKvValue(SECRETS, "bun_password")) === SPEC.secret, "secret round-trip");
await unwrap(maand.kvPutSecret("bun_token", `${SPEC.secret}-2`, 600));
check((await unwrap(maand.kv_get(SECRETS, "bun_token"))).value === `${SPEC.secret}-2`, "kvPutSecret round-trip");
await unwrap(maand.put_job_secret("bun_gone", "z"));
out.delete_secret = await unwrap(deleteJobSecret("bun_gone"));
await unwrap(maand.kv_put_secret("bun_gone2", "z"));
await unwrap(maand.kvDeleteSecret("bun_gone2"));
check((await getKvValue(SECRETS, "bun_gone", undefined)) === undefined && (await getKvValue(SECRETS, "bun_gone2", undefined)) === undefined, "secrets deleted");

// Keys (typed result)
const keys: ListKeysResult = await unwrap(listJobKeys());
out.keys = keys;
out.keys_vars = await unwrap(maand.kvKeys(VARS));
check(JSON.stringify(await unwrap(maand.kv_list(VARS))) === JSON.stringify(out.keys_vars), "kv_list");
check(!(await (await listJobKeys(SECRETS)).text()).includes(SPEC.secret), "key listing never shows secret values");

// Rollout order
await unwrap(putRolloutOrder([...SPEC.workers].reverse()));
out.rollout_order = await maand.rolloutOrder();
await unwrap(maand.setRolloutOrder(SPEC.workers.join(",")));
out.rollout_order_2 = await maand.rollout_order();
check((await unwrap(getRolloutOrder())).value === SPEC.workers.join(","), "getRolloutOrder returns the response, as the original");

// Upstream read
out.upstream = await getKvValue(SPEC.upstream[0], SPEC.upstream[1]);

// Demands
out.demands = await unwrap(listHookDemands());
out.demands_upstream = await withEnv(SPEC.upstream_invocation_env, async () => {
  const d = await unwrap(maand.getDemands());
  check(JSON.stringify(d) === JSON.stringify(await unwrap(maand.get_demands())), "get_demands");
  return d;
});

// Semaphores
res = await acquireSemaphore("bun_mig", 2, 5);
out.acquire = [res.status, await res.json()];
await unwrap(maand.semaphoreAcquire("bun_mig"));
const held: SemaphoreStatusResult = await unwrap(semaphoreStatus("bun_mig"));
out.status_held = held;
out.release = await unwrap(releaseSemaphore("bun_mig"));
out.status_free = await unwrap(maand.getSemaphoreStatus("bun_mig"));
await unwrap(maand.acquire_semaphore("bun_default"));
out.status_default = await unwrap(maand.semaphore_status("bun_default"));
await unwrap(maand.semaphoreRelease("bun_default"));

// Errors
const errors: Record<string, unknown> = {
  release_without_hold: await errorOf(() => releaseSemaphore("bun_mig")),
  namespace_denied: await errorOf(() => maand.apiPutKv({ namespace: "vars/bucket", key: "x", value: "y" })),
  read_denied: await errorOf(() => getStoreValue(SPEC.unrelated_vars, "ttl")),
  missing_key: await errorOf(() => getStoreValue(VARS, "never_written")),
  delete_missing: await errorOf(() => deleteJobVariable("never_written")),
  delete_missing_secret: await errorOf(() => deleteJobSecret("never_written")),
  bad_rollout_order: await errorOf(() => putRolloutOrder(["10.9.9.9"])),
  bad_capacity: await errorOf(() => acquireSemaphore("bun_bad", 0)),
};
async function thrown(call: () => Promise<unknown>): Promise<[number | undefined, string, string | undefined]> {
  try {
    await call();
  } catch (e) {
    if (e instanceof MaandApiError) return [e.status, e.apiMessage, e.code];
    throw e;
  }
  throw new Error("expected MaandApiError");
}
// A missing key throws without a fallback; a fallback covers only "key not found" (by the error
// code), never a denied namespace or a wrong allocation, whose 404 looks the same by status.
errors.get_kv_value_missing = await thrown(() => getKvValue(VARS, "never_written"));
errors.get_kv_value_denied = await thrown(() => getKvValue(SPEC.unrelated_vars, "ttl", undefined));
errors.get_kv_value_wrong_allocation = await withEnv({ [ENV.allocationId!]: SPEC.foreign_allocation_id }, () =>
  thrown(() => getKvValue(VARS, "never_written", undefined)),
);
errors.no_token = await withEnv({ [ENV.apiToken!]: undefined }, () => errorOf(() => listJobKeys()));
errors.no_allocation_id = await withEnv({ [ENV.allocationId!]: undefined }, () => errorOf(() => listJobKeys()));
errors.unreachable = await withEnv({ [ENV.apiPort!]: String(SPEC.closed_port) }, () => errorOf(() => listJobKeys()));
out.errors = errors;

console.log(JSON.stringify(out));
