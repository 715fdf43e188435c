import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { z } from "zod";
import { apiRouter, createApiCaller, OPERATIONS } from "../../server/api/router.js";
import { defineOperation, queryProcedure, runOperation, type Operation } from "../../server/api/operation.js";
import { toApiError } from "../../server/api/boundary.js";
import { createApiServices, type ApiContext } from "../../server/api/context.js";
import { createRequestHandler } from "../../server/api/http/handler.js";
import { InvocationRegistry, type Invocation } from "../../server/api/registry.js";
import { SemaphoreBoard } from "../../server/api/semaphores.js";
import { ROUTES, ROUTE_NAMES, type RouteName } from "../../server/api/routes.js";
import { HEADERS } from "../../server/api/request-headers.js";
import { t } from "../../server/api/trpc.js";
import { HOOK_EVENTS } from "../../server/workspace/model.js";
import type { BucketContext } from "../../server/bucket/context.js";
import { KvSession } from "../../server/store/kv-session.js";
import { ALLOC, fixtureBucket } from "./fixture.js";
import { inject } from "./inject.js";

/**
 * The HTTP layer runs each operation directly (input parser, handler, output parser: see
 * server/api/operation.ts) instead of through tRPC's caller, for speed. These tests prove the
 * two paths are the same API: the real request handler, driven in-process, and the tRPC caller
 * answer every route, every event and every case (success and error) with the same status, body
 * and KV effect; the procedures carry no middleware the HTTP path would skip; and an output that
 * violates its schema is the same internal error on both.
 */

/** Per route: inputs that succeed and inputs that fail, for the api job's hook on 10.0.0.1. */
const CASES: Record<RouteName, unknown[]> = {
  getKv: [
    { namespace: "vars/job/api", key: "db_url" },
    { namespace: "secrets/job/database", key: "root_password" },
    { namespace: "maand/worker/10.0.0.2", key: "worker_ip" },
    { namespace: "vars/job/cache", key: "ttl" },
    { namespace: "vars/job/api", key: "nope" },
    { namespace: "vars/job/api" },
    { namespace: "vars/job/api", key: "db_url", extra: true },
    { namespace: "vars/job/api", key: "k".repeat(1025) },
  ],
  putKv: [
    { namespace: "vars/job/api", key: "k", value: "v", ttl: 60 },
    { namespace: "maand/job/api", key: "rollout_order", value: "10.0.0.2,10.0.0.1" },
    { namespace: "maand/job/api", key: "rollout_order", value: "10.0.0.3" },
    { namespace: "vars/bucket", key: "k", value: "v" },
    { namespace: "vars/job/api", key: "k", value: "v", ttl: -1 },
    { namespace: "vars/job/api", key: "k", value: 5 },
  ],
  deleteKv: [{ namespace: "vars/job/api", key: "db_url" }, { namespace: "vars/job/api", key: "never" }, { namespace: "vars/job/database", key: "dsn" }],
  putSecret: [{ namespace: "secrets/job/api", key: "pw", value: "p" }, { namespace: "secrets/job/cache", key: "pw", value: "p" }, { key: "pw" }],
  deleteSecret: [{ namespace: "secrets/job/api", key: "db_password" }, { namespace: "secrets/job/api", key: "never" }],
  listKeys: [{}, { namespace: "" }, { namespace: "secrets/job/api" }, { namespace: "vars/job/database" }, { namespace: 3 }],
  listDemands: [{}, { namespace: "", key: "" }],
  acquireSemaphore: [{ name: "m" }, { name: "m", capacity: 2, timeout_seconds: 1 }, { name: "m", capacity: 65 }, { name: "" }],
  releaseSemaphore: [{ name: "never-held" }, { name: 1 }],
  semaphoreStatus: [{ name: "m" }, {}],
};

interface Answer {
  status: number;
  body: unknown;
  /** What the session holds afterwards for the keys the cases touch. */
  kv: string;
}

describe("HTTP path and tRPC router are one API", () => {
  let bucket: BucketContext;
  let cleanup: () => void;
  let kv: KvSession;
  before(async () => {
    ({ bucket, cleanup } = await fixtureBucket("maand-equivalence-"));
    kv = new KvSession(bucket.kv);
  });
  after(() => {
    bucket.close();
    cleanup();
  });

  const touched = (): string =>
    [
      ["vars/job/api", "k"],
      ["vars/job/api", "db_url"],
      ["maand/job/api", "rollout_order"],
      ["secrets/job/api", "pw"],
      ["secrets/job/api", "db_password"],
    ]
      .map(([ns, key]) => `${ns} ${key}=${kv.get(ns!, key!) ?? "-"}`)
      .join("; ");

  /** Each path gets fresh services (its own semaphores), so one path's acquire cannot answer the other's. */
  async function viaHttp(registry: InvocationRegistry, inv: Invocation, route: RouteName, input: unknown): Promise<Answer> {
    const handler = createRequestHandler({ services: createApiServices(bucket.db, kv, new SemaphoreBoard()), registry, auth: "token" });
    const res = await inject(handler, {
      method: ROUTES[route].method,
      url: ROUTES[route].path,
      headers: {
        [HEADERS.allocationId]: inv.allocId,
        [HEADERS.event]: inv.event,
        [HEADERS.command]: inv.command,
        [HEADERS.authorization]: `Bearer ${inv.token}`,
        "content-type": "application/json",
      },
      body: JSON.stringify(input),
    });
    const answer = { status: res.status, body: res.json, kv: touched() };
    kv.rollback();
    return answer;
  }

  async function viaTrpc(inv: Invocation, route: RouteName, input: unknown): Promise<Answer> {
    const ctx: ApiContext = { invocation: inv, services: createApiServices(bucket.db, kv, new SemaphoreBoard()) };
    const caller = createApiCaller(ctx) as unknown as Record<RouteName, (input: unknown) => Promise<unknown>>;
    let answer: Answer;
    try {
      answer = { status: 200, body: await caller[route](input), kv: touched() };
    } catch (err) {
      const e = toApiError(err, ROUTES[route]);
      answer = { status: e.status, body: e.toBody(), kv: touched() };
    }
    kv.rollback();
    return answer;
  }

  for (const event of HOOK_EVENTS) {
    it(`every route answers the same on both paths (event ${event})`, async () => {
      const registry = new InvocationRegistry();
      const inv = registry.register({ allocId: ALLOC.api1, job: "api", workerIp: "10.0.0.1", event, command: "hook_migrate" });
      const statuses = new Set<number>();
      for (const route of ROUTE_NAMES) {
        for (const input of CASES[route]) {
          const http = await viaHttp(registry, inv, route, input);
          const trpc = await viaTrpc(inv, route, input);
          assert.deepEqual(http, trpc, `${event} ${route} ${JSON.stringify(input).slice(0, 100)}`);
          statuses.add(http.status);
        }
      }
      // The cases reach success and the error classes on every event.
      for (const s of [200, 400, 404, 409]) assert.ok(statuses.has(s), `${event}: no ${s} among ${[...statuses]}`);
    });
  }

  it("no procedure carries a middleware beyond tRPC's own input/output parsing (the HTTP path would skip it)", () => {
    const reference = t.procedure
      .input(z.object({}))
      .output(z.object({}))
      .query(() => ({}));
    const names = (p: { _def: { middlewares: Array<{ name: string }> } }) => p._def.middlewares.map((m) => m.name);
    const procedures = apiRouter._def.procedures as unknown as Record<string, { _def: { type: string; middlewares: Array<{ name: string }> } }>;
    assert.deepEqual(Object.keys(procedures).sort(), [...ROUTE_NAMES].sort());
    for (const name of ROUTE_NAMES) {
      assert.deepEqual(names(procedures[name]!), names(reference as never), `${name} gained a middleware`);
      assert.equal(procedures[name]!._def.type, ROUTES[name].method === "GET" ? "query" : "mutation");
    }
    // The check itself sees a middleware when there is one.
    const withMiddleware = t.procedure
      .use(({ next }) => next())
      .input(z.object({}))
      .output(z.object({}))
      .query(() => ({}));
    assert.notDeepEqual(names(withMiddleware as never), names(reference as never));
  });

  it("an output that violates its schema is the same internal error (500, no detail) on both paths", async () => {
    const broken = defineOperation({
      name: "getKv",
      input: z.object({}),
      output: z.object({ value: z.string() }),
      handler: () => ({ value: 42 }) as never,
    }) as Operation;
    const registry = new InvocationRegistry();
    const inv = registry.register({ allocId: ALLOC.api1, job: "api", workerIp: "10.0.0.1", event: "cli", command: "hook_migrate" });
    const ctx: ApiContext = { invocation: inv, services: createApiServices(bucket.db, kv, new SemaphoreBoard()) };
    const direct = await runOperation(broken, ctx, {}).then(
      () => assert.fail("expected an error"),
      (e: unknown) => toApiError(e, ROUTES.getKv),
    );
    const router = t.router({ getKv: queryProcedure(broken) });
    const viaCaller = await t
      .createCallerFactory(router)(ctx)
      .getKv({})
      .then(
        () => assert.fail("expected an error"),
        (e: unknown) => toApiError(e, ROUTES.getKv),
      );
    assert.deepEqual(direct.toBody(), viaCaller.toBody());
    assert.equal(direct.status, 500);
    assert.equal(viaCaller.status, 500);
    assert.deepEqual(direct.toBody(), { message: "Internal error", code: "INTERNAL_ERROR" });
  });

  it("OPERATIONS is the single table: every route has an operation named for it", () => {
    for (const name of ROUTE_NAMES) assert.equal(OPERATIONS[name].name, name);
  });
});
