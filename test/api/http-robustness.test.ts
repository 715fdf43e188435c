import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { API_ERRORS, type ApiErrorDef } from "../../server/api/errors.js";
import { ROUTES } from "../../server/api/routes.js";
import { HEADERS } from "../../server/api/request-headers.js";
import { call, expectApiError, startFixture, type Fixture, type HttpResult } from "./fixture.js";
import { bodyOf, rawExchange, statusOf } from "./raw-http.js";

/**
 * Requests that stress the HTTP layer rather than the routes: an invocation that ends while its
 * request is in flight, requests Node's parser refuses, unusual request targets and inputs.
 */

/** These answers carry the note's message and code only, no detail. */
function expectError(r: HttpResult, def: ApiErrorDef): void {
  expectApiError(r, def);
  assert.equal(r.json.detail, undefined, r.text);
}

describe("runtime API robustness (over HTTP)", () => {
  let f: Fixture;
  before(async () => {
    f = await startFixture();
  });
  after(() => f.close());

  const headLines = (headers: Record<string, string>) =>
    Object.entries(headers)
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join("");

  it("a Host other than 127.0.0.1/localhost (a DNS-rebinding page) gets 403 and acts on nothing", async () => {
    const inv = f.invoke({ allocId: "host-1" });
    const before = f.snapshot();
    const body = JSON.stringify({ namespace: "vars/job/api", key: "rebound", value: "x" });
    const send = (host: string) =>
      rawExchange(
        f.api.port,
        `${ROUTES.putKv.method} ${ROUTES.putKv.path} HTTP/1.1\r\nHost: ${host}\r\n${headLines(f.headersFor(inv))}` +
          `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    for (const host of [`evil.example:${f.api.port}`, "evil.example", `127.0.0.1.nip.io:${f.api.port}`]) {
      const raw = await send(host);
      assert.equal(statusOf(raw), API_ERRORS.foreignHost.status, raw);
      assert.deepEqual(bodyOf(raw), { message: API_ERRORS.foreignHost.message, code: API_ERRORS.foreignHost.code });
    }
    assert.deepEqual(f.snapshot(), before);
    for (const host of [`127.0.0.1:${f.api.port}`, `LOCALHOST:${f.api.port}`, "127.0.0.1"]) assert.equal(statusOf(await send(host)), 200, host);
    f.registry.unregister(inv.allocId);
  });

  it("an invocation that ends while its request's body is arriving gets 404 and acts on nothing", async () => {
    for (const [route, payload] of [
      [ROUTES.acquireSemaphore, { name: "ghost" }],
      [ROUTES.putKv, { namespace: "vars/job/api", key: "ghost", value: "x" }],
    ] as const) {
      // The server asks hasEnded() on every lookup of the invocation: its first call is the
      // event "the headers were authenticated", and the body has not been sent yet.
      let authenticated!: () => void;
      const headersChecked = new Promise<void>((resolve) => (authenticated = resolve));
      const inv = f.invoke({ allocId: "ghost-1", hasEnded: () => (authenticated(), false) });
      const before = f.snapshot();
      const body = JSON.stringify(payload);
      const head =
        `${route.method} ${route.path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${headLines(f.headersFor(inv))}` +
        `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n`;
      // The headers pass every check; then the process exits and the engine unregisters it.
      const raw = await rawExchange(f.api.port, head, body, async () => {
        await headersChecked;
        f.registry.unregister(inv.allocId);
      });
      assert.equal(statusOf(raw), API_ERRORS.invalidAllocationId.status, raw);
      assert.deepEqual(bodyOf(raw), { message: API_ERRORS.invalidAllocationId.message, code: API_ERRORS.invalidAllocationId.code });
      assert.equal(f.snapshot(), before, `${route.path}: nothing stored`);
    }
    // Nobody holds the semaphore the dead invocation asked for.
    const live = f.invoke();
    try {
      const st = await call(f.api.url, "GET", `${ROUTES.semaphoreStatus.path}?name=ghost`, { headers: f.headersFor(live) });
      assert.deepEqual(st.json, { name: "ghost", capacity: 1, holders: [], waiting: 0, available: 1 });
    } finally {
      f.registry.unregister(live.allocId);
    }
  });

  it("requests Node's parser refuses still get JSON {message, code}: 431 for oversized headers, 400 otherwise", async () => {
    const big = await call(f.api.url, "GET", "/kv/keys", { headers: { "X-Padding": "a".repeat(20_000) } });
    expectError(big, API_ERRORS.headersTooLarge);
    const garbage = await rawExchange(f.api.port, "\u0001\u0002 not http\r\n\r\n");
    assert.equal(statusOf(garbage), API_ERRORS.malformedRequest.status, garbage);
    assert.deepEqual(bodyOf(garbage), { message: API_ERRORS.malformedRequest.message, code: API_ERRORS.malformedRequest.code });
  });

  it("accepts a request without Host, an absolute-form target and Content-Length: 00 without a content type", async () => {
    const inv = f.invoke();
    try {
      const h = headLines(f.headersFor(inv));
      const noHost = await rawExchange(f.api.port, `GET /kv?namespace=vars/job/api&key=db_url HTTP/1.1\r\n${h}Connection: close\r\n\r\n`);
      assert.equal(statusOf(noHost), 200, noHost);
      const absolute = await rawExchange(
        f.api.port,
        `GET http://127.0.0.1:${f.api.port}/kv?namespace=vars/job/api&key=db_url HTTP/1.1\r\nHost: 127.0.0.1\r\n${h}Connection: close\r\n\r\n`,
      );
      assert.equal(statusOf(absolute), 200, absolute);
      assert.deepEqual(bodyOf(absolute), { namespace: "vars/job/api", key: "db_url", value: "postgres://db/api" });
      const zero = await rawExchange(f.api.port, `GET /kv/keys HTTP/1.1\r\nHost: 127.0.0.1\r\n${h}Content-Length: 00\r\nConnection: close\r\n\r\n`);
      assert.equal(statusOf(zero), 200, zero);
    } finally {
      f.registry.unregister(inv.allocId);
    }
  });

  it("query parameters and bodies are plain data: __proto__ is an unknown field, ignored, never an input", async () => {
    const inv = f.invoke();
    try {
      const only = (await call(f.api.url, "GET", "/kv/keys?namespace=vars/job/api", { headers: f.headersFor(inv) })).json;
      assert.deepEqual(Object.keys(only.namespaces), ["vars/job/api"]);
      const q = await call(f.api.url, "GET", "/kv/keys?__proto__=x&namespace=vars/job/api", { headers: f.headersFor(inv) });
      assert.deepEqual(q.json, only, q.text);
      const json = { ...f.headersFor(inv), "Content-Type": "application/json" };
      const b = await call(f.api.url, "GET", "/kv/keys", { rawBody: '{"__proto__": {"namespace": "secrets/job/api"}, "namespace": "vars/job/api"}', headers: json });
      assert.deepEqual(b.json, only, b.text);
      const polluted = await call(f.api.url, "GET", "/kv", { rawBody: '{"__proto__": {"namespace": "vars/job/api", "key": "db_url"}}', headers: json });
      assert.equal(polluted.json.code, API_ERRORS.namespaceAndKeyRequired.code, polluted.text);
    } finally {
      f.registry.unregister(inv.allocId);
    }
  });

  it("a value that breaks several checks of one field is reported once", async () => {
    const inv = f.invoke();
    try {
      const r = await call(f.api.url, "PUT", ROUTES.putKv.path, { body: { namespace: "vars/job/api", key: "k", value: "v", ttl: 1e300 }, headers: f.headersFor(inv) });
      assert.equal(r.status, 400);
      assert.equal(r.json.message.split("ttl:").length, 2, r.json.message);
    } finally {
      f.registry.unregister(inv.allocId);
    }
  });

  it("the error catalogue carries the design note's messages and statuses, to the letter", () => {
    const note: Array<[keyof typeof API_ERRORS, number, string]> = [
      ["missingAllocationId", 400, "X-ALLOCATION-ID header is missing"],
      ["invalidAllocationId", 404, "Invalid allocation ID"],
      ["namespaceAndKeyRequired", 400, "Both namespace and key are required"],
      ["unauthorizedNamespace", 400, "Invalid or unauthorized namespace"],
      ["keyNotFound", 404, "KV get operation failed"],
      ["healthCheckReadOnly", 400, "KV writes are not allowed during health_check"],
      ["semaphoreTimeout", 408, "Timed out waiting for semaphore"],
      ["semaphoreConflict", 409, "Semaphore acquire or release failed"],
      ["unsupportedMediaType", 415, "Content-Type must be application/json"],
      ["invalidJson", 400, "Invalid JSON format"],
    ];
    for (const [name, status, message] of note) assert.deepEqual([API_ERRORS[name].status, API_ERRORS[name].message], [status, message], name);
    assert.equal(HEADERS.allocationId, "X-ALLOCATION-ID");
  });
});
