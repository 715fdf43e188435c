import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { apiRouter, createApiCaller, OPERATIONS } from "../../server/api/router.js";
import { ApiError, API_ERRORS } from "../../server/api/errors.js";
import { toApiError } from "../../server/api/boundary.js";
import { ROUTES, ROUTE_NAMES, type RouteName } from "../../server/api/routes.js";
import type { ApiContext } from "../../server/api/context.js";
import { InvocationRegistry } from "../../server/api/registry.js";
import type { BucketContext } from "../../server/bucket/context.js";
import { KvSession } from "../../server/store/kv-session.js";
import { ALLOC, fixtureBucket, servicesFor } from "./fixture.js";

describe("router (in-process caller)", () => {
  let bucket: BucketContext;
  let cleanup: () => void;
  let ctx: ApiContext;
  before(async () => {
    ({ bucket, cleanup } = await fixtureBucket("maand-router-"));
    const kv = new KvSession(bucket.kv);
    const invocation = new InvocationRegistry().register({ allocId: ALLOC.api1, job: "api", workerIp: "10.0.0.1", event: "pre_deploy", command: "hook_migrate" });
    ctx = { invocation, services: servicesFor(bucket, kv) };
  });
  after(() => {
    bucket.close();
    cleanup();
  });

  const rejectsWith = async (p: Promise<unknown>, def: (typeof API_ERRORS)[keyof typeof API_ERRORS], route?: RouteName) => {
    const err = await p.then(
      () => assert.fail("expected an error"),
      (e: unknown) => e,
    );
    // The boundary converts domain errors to the catalogue (tRPC keeps the ApiError as the cause);
    // input validation errors come from tRPC and are converted with the route, as the HTTP layer does.
    const apiErr = route ? toApiError(err, ROUTES[route]) : (err as { cause?: unknown }).cause;
    assert.ok(apiErr instanceof ApiError, String(err));
    assert.equal(apiErr.code, def.code);
    assert.equal(apiErr.status, def.status);
  };

  it("reads, writes and lists through the session", async () => {
    const caller = createApiCaller(ctx);
    assert.deepEqual(await caller.getKv({ namespace: "secrets/job/api", key: "db_password" }), {
      namespace: "secrets/job/api",
      key: "db_password",
      value: "s3cret-api",
    });
    await caller.putKv({ namespace: "maand/job/api", key: "rollout_order", value: "10.0.0.2,10.0.0.1" });
    assert.equal(ctx.services.kv.get("maand/job/api", "rollout_order"), "10.0.0.2,10.0.0.1");
    assert.deepEqual((await caller.listKeys({})).namespaces["vars/job/api"], ["db_url"]);
    assert.deepEqual(await caller.listDemands({}), []);
    ctx.services.kv.rollback();
  });

  it("converts domain and validation errors at the procedure boundary", async () => {
    const caller = createApiCaller(ctx);
    await rejectsWith(caller.getKv({ namespace: "vars/job/cache", key: "x" }), API_ERRORS.unauthorizedNamespace);
    await rejectsWith(caller.getKv({ namespace: "vars/job/api", key: "missing" }), API_ERRORS.keyNotFound);
    await rejectsWith(caller.getKv({ namespace: "vars/job/api" } as never), API_ERRORS.namespaceAndKeyRequired, "getKv");
    await rejectsWith(caller.putKv({ namespace: "maand/job/api", key: "rollout_order", value: "1.2.3.4" }), API_ERRORS.invalidRolloutOrder);
    await rejectsWith(caller.acquireSemaphore({ name: "s", capacity: 100 }), API_ERRORS.invalidInput, "acquireSemaphore");
    await rejectsWith(caller.releaseSemaphore({ name: "s" }), API_ERRORS.semaphoreConflict);
    assert.equal(ctx.services.kv.dirty, false);
  });
});

describe("operations and their tRPC procedures", () => {
  it("the router has one procedure per route: a query for GET, a mutation otherwise, with the operation's schemas", () => {
    const procedures = apiRouter._def.procedures as unknown as Record<string, { _def: { type: string; inputs: unknown[]; output: unknown; meta: { openapi: { method: string; path: string } } } }>;
    assert.deepEqual(Object.keys(procedures).sort(), [...ROUTE_NAMES].sort());
    for (const name of ROUTE_NAMES) {
      const def = procedures[name]!._def;
      assert.equal(OPERATIONS[name].name, name);
      assert.equal(def.type, ROUTES[name].method === "GET" ? "query" : "mutation", name);
      assert.equal(def.inputs[0], OPERATIONS[name].input, name);
      assert.equal(def.output, OPERATIONS[name].output, name);
      assert.deepEqual([def.meta.openapi.method, def.meta.openapi.path], [ROUTES[name].method, ROUTES[name].path]);
    }
  });
});
