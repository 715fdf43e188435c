import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { request as httpRequest } from "node:http";
import { API_ERRORS, type ApiErrorDef } from "../../server/api/errors.js";
import { ROUTES, ROUTE_NAMES } from "../../server/api/routes.js";
import { LIMITS } from "../../server/api/limits.js";
import { assertNoStack, call, expectApiError as expectError, startFixture, type Fixture, type HttpResult } from "./fixture.js";

/** Valid input per route, as the note shows it. */
const GOOD: Record<(typeof ROUTE_NAMES)[number], Record<string, unknown>> = {
  getKv: { namespace: "vars/job/api", key: "db_url" },
  putKv: { namespace: "vars/job/api", key: "new_key", value: "v", ttl: 0 },
  deleteKv: { namespace: "vars/job/api", key: "db_url" },
  putSecret: { namespace: "secrets/job/api", key: "pw", value: "p", ttl: 86400 },
  deleteSecret: { namespace: "secrets/job/api", key: "db_password" },
  listKeys: { namespace: "vars/job/api" },
  listDemands: {},
  acquireSemaphore: { name: "m", capacity: 1, timeout_seconds: 5 },
  releaseSemaphore: { name: "never-held" },
  semaphoreStatus: { name: "m" },
};

/** Bad input per route: [body, expected error, message]. */
type Bad = [unknown, ApiErrorDef, (string | RegExp)?];
const KEYED_BAD: Bad[] = [
  [{}, API_ERRORS.namespaceAndKeyRequired],
  [{ namespace: "vars/job/api" }, API_ERRORS.namespaceAndKeyRequired],
  [{ key: "db_url" }, API_ERRORS.namespaceAndKeyRequired],
  [{ namespace: "", key: "db_url" }, API_ERRORS.namespaceAndKeyRequired],
  [{ namespace: "vars/job/api", key: "" }, API_ERRORS.namespaceAndKeyRequired],
  [{ namespace: 5, key: "db_url" }, API_ERRORS.namespaceAndKeyRequired],
  [{ namespace: "vars/job/api", key: ["a"] }, API_ERRORS.namespaceAndKeyRequired],
  [{ namespace: null, key: null }, API_ERRORS.namespaceAndKeyRequired],
];
const BAD: Record<(typeof ROUTE_NAMES)[number], Bad[]> = {
  getKv: KEYED_BAD,
  putKv: [
    ...KEYED_BAD,
    [{ namespace: "vars/job/api", key: "k" }, API_ERRORS.invalidInput, /value/],
    [{ namespace: "vars/job/api", key: "k", value: 5 }, API_ERRORS.invalidInput, /value: expected string/],
    [{ namespace: "vars/job/api", key: "k", value: { a: 1 } }, API_ERRORS.invalidInput, /value/],
    [{ namespace: "vars/job/api", key: "k", value: "v", ttl: -1 }, API_ERRORS.invalidInput, /ttl must be an integer/],
    [{ namespace: "vars/job/api", key: "k", value: "v", ttl: 1.5 }, API_ERRORS.invalidInput, /ttl must be an integer/],
    [{ namespace: "vars/job/api", key: "k", value: "v", ttl: "10" }, API_ERRORS.invalidInput, /ttl/],
    [{ namespace: "vars/job/api", key: "k", value: "v", ttl: 1e300 }, API_ERRORS.invalidInput, /ttl/],
  ],
  deleteKv: [...KEYED_BAD, [{ namespace: "vars/job/api", key: "never_set" }, API_ERRORS.keyNotFound]],
  putSecret: [
    ...KEYED_BAD,
    [{ namespace: "secrets/job/api", key: "k" }, API_ERRORS.invalidInput, /value/],
    [{ namespace: "secrets/job/api", key: "k", value: true }, API_ERRORS.invalidInput, /value/],
    [{ namespace: "secrets/job/api", key: "k", value: "v", ttl: -5 }, API_ERRORS.invalidInput, /ttl/],
  ],
  deleteSecret: [...KEYED_BAD, [{ namespace: "secrets/job/api", key: "never_set" }, API_ERRORS.keyNotFound]],
  listKeys: [
    [{ namespace: 7 }, API_ERRORS.invalidInput, /namespace/],
    // only the job's own vars and secrets, as the original
    [{ namespace: "vars/job/cache" }, API_ERRORS.unauthorizedNamespace],
    [{ namespace: "vars/job/database" }, API_ERRORS.unauthorizedNamespace],
    [{ namespace: "maand/job/api" }, API_ERRORS.unauthorizedNamespace],
    [{ namespace: "vars/bucket" }, API_ERRORS.unauthorizedNamespace],
    [{ namespace: "secrets/job/database" }, API_ERRORS.unauthorizedNamespace],
  ],
  listDemands: [],
  acquireSemaphore: [
    [{}, API_ERRORS.invalidInput, /name/],
    [{ name: "" }, API_ERRORS.invalidInput, /name/],
    [{ name: 5 }, API_ERRORS.invalidInput, /name/],
    [{ name: "m", capacity: 0 }, API_ERRORS.invalidInput, /capacity must be an integer from 1 to 64/],
    [{ name: "m", capacity: 65 }, API_ERRORS.invalidInput, /capacity must be an integer from 1 to 64/],
    [{ name: "m", capacity: 1.5 }, API_ERRORS.invalidInput, /capacity/],
    [{ name: "m", capacity: "1" }, API_ERRORS.invalidInput, /capacity/],
    [{ name: "m", timeout_seconds: -1 }, API_ERRORS.invalidInput, /timeout_seconds/],
    [{ name: "m", timeout_seconds: "5" }, API_ERRORS.invalidInput, /timeout_seconds/],
  ],
  releaseSemaphore: [
    [{}, API_ERRORS.invalidInput, /name/],
    [{ name: 1 }, API_ERRORS.invalidInput, /name/],
  ],
  semaphoreStatus: [
    [{}, API_ERRORS.invalidInput, /name/],
    [{ name: ["a", "b"] }, API_ERRORS.invalidInput, /name/],
  ],
};

/**
 * Unknown fields are ignored, as the original read bodies; its clients send e.g.
 * {"namespace": "", "key": ""} to routes that take neither.
 */
const EXTRA = { extra: 1, ttl_seconds: 5, namespace_: "x", value_: null };
const withExtras = (name: (typeof ROUTE_NAMES)[number]): Record<string, unknown> =>
  name === "listDemands" ? { namespace: "", key: "" } : { ...EXTRA, ...GOOD[name] };

describe("runtime API input handling (over HTTP)", () => {
  let f: Fixture;
  let h: Record<string, string>;
  before(async () => {
    f = await startFixture();
    h = f.headersFor(f.invoke());
  });
  after(() => f.close());

  for (const name of ROUTE_NAMES) {
    const r = ROUTES[name];
    it(`${name} (${r.method} ${r.path}) answers good input with 200 and bad input with the documented error, storing nothing`, async () => {
      for (const [body, def, message] of BAD[name]) {
        const snap = f.snapshot();
        const res = await call(f.api.url, r.method, r.path, { body, headers: h });
        expectError(res, def, message);
        assert.equal(f.snapshot(), snap, `store changed after ${JSON.stringify(body)}`);
      }
      for (const body of [GOOD[name], withExtras(name)]) {
        const res = await call(f.api.url, r.method, r.path, { body, headers: h });
        if (name === "releaseSemaphore") expectError(res, API_ERRORS.semaphoreConflict);
        else assert.equal(res.status, 200, `${name} ${JSON.stringify(body)}: ${res.text}`);
        assertNoStack(res);
        if (name === "acquireSemaphore") await call(f.api.url, "POST", ROUTES.releaseSemaphore.path, { body: { name: "m" }, headers: h });
        f.kv.rollback();
      }
    });
  }

  it("GET routes take input from the query string, from a JSON body, or both (body wins)", async () => {
    const viaQuery = await call(f.api.url, "GET", "/kv?namespace=vars/job/api&key=db_url", { headers: h });
    assert.equal(viaQuery.status, 200);
    const viaBody = await call(f.api.url, "GET", "/kv", { body: { namespace: "vars/job/api", key: "db_url" }, headers: h });
    assert.deepEqual(viaBody.json, viaQuery.json);
    assert.deepEqual(viaBody.json, { namespace: "vars/job/api", key: "db_url", value: "postgres://db/api" });
    const both = await call(f.api.url, "GET", "/kv?namespace=vars/job/api&key=nope", { body: { key: "db_url" }, headers: h });
    assert.equal(both.status, 200, both.text);
    assert.equal(both.json.value, "postgres://db/api");
    const keys = await call(f.api.url, "GET", "/kv/keys", { body: { namespace: "secrets/job/api" }, headers: h });
    assert.deepEqual(keys.json, { namespaces: { "secrets/job/api": ["db_password"] } });
    const status = await call(f.api.url, "GET", "/semaphore/status?name=q", { headers: h });
    assert.deepEqual(status.json, { name: "q", capacity: 1, holders: [], waiting: 0, available: 1 });
    expectError(await call(f.api.url, "GET", "/kv?namespace=vars/job/api", { headers: h }), API_ERRORS.namespaceAndKeyRequired);
    expectError(await call(f.api.url, "GET", "/kv?namespace=vars/job/api&key=a&key=b", { headers: h }), API_ERRORS.namespaceAndKeyRequired);
    // Percent-encoding in the query is decoded.
    const enc = await call(f.api.url, "GET", "/kv?namespace=vars%2Fjob%2Fapi&key=db%5Furl", { headers: h });
    assert.equal(enc.status, 200, enc.text);
  });

  it("GET /kv/keys lists the job's own vars and secrets; an empty namespace means both, as omitting it", async () => {
    const both = { namespaces: { "vars/job/api": ["db_url"], "secrets/job/api": ["db_password"] } };
    for (const body of [{}, { namespace: "" }, { namespace: "", key: "" }]) {
      const r = await call(f.api.url, "GET", "/kv/keys", { body, headers: h });
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.json, both, JSON.stringify(body));
    }
    assert.deepEqual((await call(f.api.url, "GET", "/kv/keys?namespace=", { headers: h })).json, both);
    assert.deepEqual((await call(f.api.url, "GET", "/kv/keys?namespace=vars/job/api", { headers: h })).json, { namespaces: { "vars/job/api": ["db_url"] } });
  });

  it("DELETE of a key that does not exist is the note's 404 and writes nothing", async () => {
    const snap = f.snapshot();
    for (const [path, namespace] of [["/kv", "vars/job/api"], ["/kv/secret", "secrets/job/api"]] as const) {
      expectError(await call(f.api.url, "DELETE", path, { body: { namespace, key: "never_set" }, headers: h }), API_ERRORS.keyNotFound);
      // deleted once: a second delete finds nothing (the tombstone is not a key)
      const key = namespace.startsWith("vars") ? "db_url" : "db_password";
      assert.equal((await call(f.api.url, "DELETE", path, { body: { namespace, key }, headers: h })).status, 200);
      expectError(await call(f.api.url, "DELETE", path, { body: { namespace, key }, headers: h }), API_ERRORS.keyNotFound);
      f.kv.rollback();
    }
    assert.equal(f.snapshot(), snap);
  });

  it("DELETE takes the note's JSON body or query parameters", async () => {
    const q = await call(f.api.url, "DELETE", "/kv?namespace=vars/job/api&key=db_url", { headers: h });
    assert.deepEqual(q.json, { namespace: "vars/job/api", key: "db_url", deleted: true });
    f.kv.rollback();
    const b = await call(f.api.url, "DELETE", "/kv", { body: { namespace: "vars/job/api", key: "db_url" }, headers: h });
    assert.deepEqual(b.json, { namespace: "vars/job/api", key: "db_url", deleted: true });
    f.kv.rollback();
  });

  it("malformed JSON, non-UTF-8 bytes, non-object JSON and empty bodies are 400s", async () => {
    const snap = f.snapshot();
    const json = { ...h, "Content-Type": "application/json" };
    for (const raw of ["{", "{namespace: 1}", '{"namespace":"vars/job/api",}', "nul", "\u0000"]) {
      expectError(await call(f.api.url, "PUT", "/kv", { rawBody: raw, headers: json }), API_ERRORS.invalidJson);
      expectError(await call(f.api.url, "GET", "/kv", { rawBody: raw, headers: json }), API_ERRORS.invalidJson);
    }
    const latin1 = Buffer.concat([Buffer.from('{"namespace":"vars/job/api","key":"k","value":"'), Buffer.from([0xff, 0xfe, 0xe9]), Buffer.from('"}')]);
    expectError(await call(f.api.url, "PUT", "/kv", { rawBody: latin1, headers: json }), API_ERRORS.invalidJson);
    expectError(await call(f.api.url, "PUT", "/kv/secret", { rawBody: Buffer.from([0xc3, 0x28]), headers: json }), API_ERRORS.invalidJson);
    for (const raw of ["[]", "[1,2]", '"text"', "42", "null", "true"]) {
      expectError(await call(f.api.url, "PUT", "/kv", { rawBody: raw, headers: json }), API_ERRORS.invalidInput, /JSON object/);
    }
    // Empty or whitespace-only bodies are an empty object: the fields are missing.
    expectError(await call(f.api.url, "PUT", "/kv", { rawBody: "  \n", headers: json }), API_ERRORS.namespaceAndKeyRequired);
    expectError(await call(f.api.url, "PUT", "/kv", { headers: h }), API_ERRORS.namespaceAndKeyRequired);
    expectError(await call(f.api.url, "POST", "/semaphore/acquire", { headers: h }), API_ERRORS.invalidInput, /name/);
    // Unicode that is valid UTF-8 round-trips.
    const ok = await call(f.api.url, "PUT", "/kv", { body: { namespace: "vars/job/api", key: "ü", value: "☃ \u0000 ok" }, headers: h });
    assert.equal(ok.status, 200, ok.text);
    const back = await call(f.api.url, "GET", "/kv", { body: { namespace: "vars/job/api", key: "ü" }, headers: h });
    assert.equal(back.json.value, "☃ \u0000 ok");
    f.kv.rollback();
    assert.equal(f.snapshot(), snap);
  });

  it("bodies over 1 MiB are 413 (declared length or chunked), on every method", async () => {
    const snap = f.snapshot();
    const big = JSON.stringify({ namespace: "vars/job/api", key: "big", value: "x".repeat(2 * 1024 * 1024) });
    for (const method of ["PUT", "GET", "DELETE"]) {
      const r = await call(f.api.url, method, "/kv", { rawBody: big, headers: { ...h, "Content-Type": "application/json" } });
      expectError(r, API_ERRORS.payloadTooLarge);
    }
    const chunked = await chunkedRequest(f.api.url, "/kv", h, big);
    expectError(chunked, API_ERRORS.payloadTooLarge);
    // Just under the limit is fine.
    const fits = JSON.stringify({ namespace: "vars/job/api", key: "fits", value: "y".repeat(LIMITS.maxBodyBytes - 100) });
    const ok = await call(f.api.url, "PUT", "/kv", { rawBody: fits, headers: { ...h, "Content-Type": "application/json" } });
    assert.equal(ok.status, 200, ok.text.slice(0, 200));
    f.kv.rollback();
    assert.equal(f.snapshot(), snap);
  });

  it("unknown paths are 404, wrong methods 405 with Allow", async () => {
    expectError(await call(f.api.url, "GET", "/nope", { headers: h }), API_ERRORS.routeNotFound, /no route \/nope/);
    expectError(await call(f.api.url, "GET", "/", { headers: h }), API_ERRORS.routeNotFound, /no route/);
    expectError(await call(f.api.url, "GET", `/${"a".repeat(5000)}`, { headers: h }), API_ERRORS.routeNotFound, /\.\.\.$/);
    const r = await call(f.api.url, "POST", "/kv", { body: {}, headers: h });
    expectError(r, API_ERRORS.methodNotAllowed, /POST is not allowed on \/kv/);
    assert.equal(r.headers.allow, "DELETE, GET, PUT");
    expectError(await call(f.api.url, "GET", "/semaphore/acquire", { headers: h }), API_ERRORS.methodNotAllowed, /allowed: POST/);
    expectError(await call(f.api.url, "PATCH", "/kv/secret", { headers: h }), API_ERRORS.methodNotAllowed, /PATCH/);
    expectError(await call(f.api.url, "GET", "/kv/secret", { headers: h }), API_ERRORS.methodNotAllowed, /allowed: DELETE, PUT/);
    const head = await call(f.api.url, "HEAD", "/kv", { headers: h });
    assert.equal(head.status, 405);
    // A trailing slash names the same route.
    assert.equal((await call(f.api.url, "GET", "/kv/?namespace=vars/job/api&key=db_url", { headers: h })).status, 200);
  });
});

/** A PUT with Transfer-Encoding: chunked (no Content-Length). */
function chunkedRequest(base: string, path: string, headers: Record<string, string>, body: string): Promise<HttpResult> {
  const url = new URL(path, base);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: url.hostname, port: url.port, path, method: "PUT", agent: false, headers: { ...headers, "Content-Type": "application/json", "Transfer-Encoding": "chunked" } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString();
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: JSON.parse(text) });
        });
      },
    );
    req.on("error", reject);
    for (let i = 0; i < body.length; i += 64 * 1024) req.write(body.slice(i, i + 64 * 1024));
    req.end();
  });
}
