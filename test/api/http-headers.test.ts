import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { API_ERRORS } from "../../server/api/errors.js";
import { HEADERS } from "../../server/api/request-headers.js";
import { ALLOC, call, expectApiError as expectError, startFixture, type Fixture } from "./fixture.js";

describe("runtime API header checks (over HTTP)", () => {
  let f: Fixture;
  before(async () => {
    f = await startFixture();
  });
  after(() => f.close());

  const GET_DB_URL = "/kv?namespace=vars/job/api&key=db_url";

  it("checks in the documented order: 415, X-ALLOCATION-ID, EVENT, COMMAND, token, allocation, EVENT/COMMAND match", async () => {
    const inv = f.invoke();
    try {
      const full = f.headersFor(inv);
      const before = f.snapshot();
      const put = { namespace: "vars/job/api", key: "k", value: "v" };
      // A body with a wrong content type wins over every missing header.
      expectError(await call(f.api.url, "PUT", "/kv", { rawBody: JSON.stringify(put), headers: { "Content-Type": "text/plain" } }), API_ERRORS.unsupportedMediaType);
      expectError(await call(f.api.url, "PUT", "/kv", { rawBody: JSON.stringify(put) }), API_ERRORS.unsupportedMediaType);
      expectError(await call(f.api.url, "GET", GET_DB_URL), API_ERRORS.missingAllocationId);
      const only = (...names: string[]) => Object.fromEntries(Object.entries(full).filter(([k]) => names.includes(k)));
      expectError(await call(f.api.url, "GET", GET_DB_URL, { headers: only(HEADERS.allocationId) }), API_ERRORS.missingEvent);
      expectError(await call(f.api.url, "GET", GET_DB_URL, { headers: only(HEADERS.allocationId, HEADERS.event) }), API_ERRORS.missingCommand);
      expectError(
        await call(f.api.url, "GET", GET_DB_URL, { headers: only(HEADERS.allocationId, HEADERS.event, HEADERS.command) }),
        API_ERRORS.missingToken,
      );
      expectError(await call(f.api.url, "GET", GET_DB_URL, { headers: { ...full, Authorization: "Bearer nope" } }), API_ERRORS.invalidToken);
      expectError(await call(f.api.url, "GET", GET_DB_URL, { headers: { ...full, Authorization: inv.token } }), API_ERRORS.missingToken);
      expectError(await call(f.api.url, "GET", GET_DB_URL, { headers: { ...full, [HEADERS.allocationId]: "not-a-running-one" } }), API_ERRORS.invalidAllocationId);
      expectError(await call(f.api.url, "GET", GET_DB_URL, { headers: { ...full, [HEADERS.event]: "pre_deploy" } }), API_ERRORS.eventMismatch);
      expectError(await call(f.api.url, "GET", GET_DB_URL, { headers: { ...full, [HEADERS.command]: "hook_other" } }), API_ERRORS.commandMismatch);
      // Writes are rejected by the same checks and store nothing.
      expectError(await call(f.api.url, "PUT", "/kv", { body: put, headers: { ...full, [HEADERS.event]: "pre_deploy" } }), API_ERRORS.eventMismatch);
      expectError(await call(f.api.url, "PUT", "/kv", { body: put, headers: { ...full, Authorization: "Bearer x" } }), API_ERRORS.invalidToken);
      assert.equal(f.snapshot(), before);
      const ok = await call(f.api.url, "GET", GET_DB_URL, { headers: full });
      assert.equal(ok.status, 200, ok.text);
      // Header names are case-insensitive; a Bearer scheme in any case is accepted.
      const lower = Object.fromEntries(Object.entries(full).map(([k, v]) => [k.toLowerCase(), v.replace("Bearer", "bearer")]));
      assert.equal((await call(f.api.url, "GET", GET_DB_URL, { headers: lower })).status, 200);
    } finally {
      f.registry.unregister(inv.allocId);
    }
  });

  it("binds the token to its invocation: another running invocation's allocation ID is 404", async () => {
    const api = f.invoke();
    const db = f.invoke({ allocId: ALLOC.db1, job: "database", workerIp: "10.0.0.1", command: "hook_schema" });
    try {
      const stolen = { ...f.headersFor(api), [HEADERS.allocationId]: db.allocId, [HEADERS.command]: db.command };
      expectError(await call(f.api.url, "GET", "/kv?namespace=vars/job/database&key=dsn", { headers: stolen }), API_ERRORS.invalidAllocationId);
      const r = await call(f.api.url, "GET", "/kv?namespace=vars/job/database&key=dsn", { headers: f.headersFor(db) });
      assert.equal(r.status, 200, r.text);
    } finally {
      f.registry.unregister(api.allocId);
      f.registry.unregister(db.allocId);
    }
  });

  it("a token stops working when its invocation ends", async () => {
    const inv = f.invoke();
    const h = f.headersFor(inv);
    assert.equal((await call(f.api.url, "GET", GET_DB_URL, { headers: h })).status, 200);
    f.registry.unregister(inv.allocId);
    expectError(await call(f.api.url, "GET", GET_DB_URL, { headers: h }), API_ERRORS.invalidToken);
  });

  it("content type: application/json with parameters is accepted; a GET without a body needs none", async () => {
    const inv = f.invoke();
    try {
      const h = f.headersFor(inv);
      const r = await call(f.api.url, "PUT", "/kv", {
        rawBody: JSON.stringify({ namespace: "vars/job/api", key: "ct", value: "1" }),
        headers: { ...h, "Content-Type": "Application/JSON; charset=utf-8" },
      });
      assert.equal(r.status, 200, r.text);
      expectError(
        await call(f.api.url, "GET", "/kv", { rawBody: JSON.stringify({ namespace: "vars/job/api", key: "db_url" }), headers: { ...h, "Content-Type": "text/plain" } }),
        API_ERRORS.unsupportedMediaType,
      );
      expectError(
        await call(f.api.url, "PUT", "/kv", { rawBody: "x", headers: { ...h, "Content-Type": "application/jsonx" } }),
        API_ERRORS.unsupportedMediaType,
      );
    } finally {
      f.registry.unregister(inv.allocId);
      f.kv.rollback();
    }
  });
});

describe("runtime API with hook_api_auth = headers", () => {
  let f: Fixture;
  before(async () => {
    f = await startFixture({ auth: "headers" });
  });
  after(() => f.close());

  it("skips the token check but still needs a running allocation and matching EVENT/COMMAND", async () => {
    const inv = f.invoke();
    try {
      const { Authorization: _drop, ...noToken } = f.headersFor(inv);
      const r = await call(f.api.url, "GET", "/kv?namespace=vars/job/api&key=db_url", { headers: noToken });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.value, "postgres://db/api");
      expectError(
        await call(f.api.url, "GET", "/kv?namespace=vars/job/api&key=db_url", { headers: { ...noToken, [HEADERS.allocationId]: ALLOC.api2 } }),
        API_ERRORS.invalidAllocationId,
      );
      expectError(
        await call(f.api.url, "GET", "/kv?namespace=vars/job/api&key=db_url", { headers: { ...noToken, [HEADERS.event]: "pre_deploy" } }),
        API_ERRORS.eventMismatch,
      );
    } finally {
      f.registry.unregister(inv.allocId);
    }
    // Stale: the invocation ended.
    expectError(
      await call(f.api.url, "GET", "/kv?namespace=vars/job/api&key=db_url", {
        headers: { [HEADERS.allocationId]: ALLOC.api1, [HEADERS.event]: "cli", [HEADERS.command]: "hook_migrate" },
      }),
      API_ERRORS.invalidAllocationId,
    );
  });
});
