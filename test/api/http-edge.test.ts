import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { connect } from "node:net";
import { API_ERRORS } from "../../server/api/errors.js";
import { ROUTES } from "../../server/api/routes.js";
import { LIMITS } from "../../server/api/limits.js";
import type { Invocation } from "../../server/api/registry.js";
import { call, expectApiError as expectError, startFixture, type Fixture } from "./fixture.js";
import { bodyOf, headerOf, rawExchange, statusOf } from "./raw-http.js";

/**
 * Inputs that do not survive storage or exceed the documented sizes, and HTTP forms Node's own
 * server would answer badly (CONNECT, unknown methods, absolute-form targets, 100-continue).
 */

describe("runtime API: sizes, strings that do not round-trip, HTTP edge cases", () => {
  let f: Fixture;
  let inv: Invocation;
  let h: Record<string, string>;
  before(async () => {
    f = await startFixture();
    inv = f.invoke();
    h = f.headersFor(inv);
  });
  after(() => f.close());

  const headLines = (extra: Record<string, string> = {}) =>
    Object.entries({ ...h, ...extra })
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join("");

  it(`keys are at most ${LIMITS.maxKeyBytes} bytes and namespaces ${LIMITS.maxNamespaceBytes} (UTF-8), on every keyed route`, async () => {
    const snap = f.snapshot();
    const longKey = "k".repeat(LIMITS.maxKeyBytes + 1);
    const wideKey = "é".repeat(LIMITS.maxKeyBytes / 2 + 1); // 2 bytes each: over by bytes, not by characters
    const longNs = `vars/job/${"a".repeat(LIMITS.maxNamespaceBytes)}`;
    for (const route of [ROUTES.getKv, ROUTES.putKv, ROUTES.deleteKv, ROUTES.putSecret, ROUTES.deleteSecret]) {
      const ns = route.path === "/kv/secret" ? "secrets/job/api" : "vars/job/api";
      for (const key of [longKey, wideKey]) {
        expectError(await call(f.api.url, route.method, route.path, { body: { namespace: ns, key, value: "v" }, headers: h }), API_ERRORS.invalidInput, /key must be at most 1024 bytes \(UTF-8\)/);
      }
      expectError(await call(f.api.url, route.method, route.path, { body: { namespace: longNs, key: "k", value: "v" }, headers: h }), API_ERRORS.invalidInput, /namespace must be at most 256 bytes/);
    }
    assert.equal(f.snapshot(), snap);
    // Exactly at the limit is fine.
    const atLimit = "é".repeat(LIMITS.maxKeyBytes / 2);
    const ok = await call(f.api.url, "PUT", "/kv", { body: { namespace: "vars/job/api", key: atLimit, value: "v" }, headers: h });
    assert.equal(ok.status, 200, ok.text);
    f.kv.rollback();
  });

  it("lone UTF-16 surrogates anywhere and NUL in names are 400; NUL in values and astral characters are stored", async () => {
    const snap = f.snapshot();
    const json = { ...h, "Content-Type": "application/json" };
    const put = (body: string) => call(f.api.url, "PUT", "/kv", { rawBody: body, headers: json });
    expectError(await put('{"namespace":"vars/job/api","key":"a\\ud800","value":"v"}'), API_ERRORS.invalidInput, /key must not contain NUL or unpaired UTF-16 surrogates/);
    expectError(await put('{"namespace":"vars/job/api","key":"\\udc00b","value":"v"}'), API_ERRORS.invalidInput, /key must not contain/);
    expectError(await put('{"namespace":"vars/job/api","key":"k","value":"x\\udfffy"}'), API_ERRORS.invalidInput, /value must not contain unpaired UTF-16 surrogates/);
    expectError(await put('{"namespace":"vars/job/api","key":"k\\u0000","value":"v"}'), API_ERRORS.invalidInput, /key must not contain NUL/);
    expectError(await put('{"namespace":"vars/job/api\\u0000","key":"k","value":"v"}'), API_ERRORS.invalidInput, /namespace must not contain NUL/);
    expectError(
      await call(f.api.url, "PUT", "/kv/secret", { rawBody: '{"namespace":"secrets/job/api","key":"k","value":"\\ud83d"}', headers: json }),
      API_ERRORS.invalidInput,
      /value must not contain/,
    );
    expectError(await call(f.api.url, "GET", "/kv?namespace=vars/job/api&key=%00", { headers: h }), API_ERRORS.invalidInput, /key must not contain NUL/);
    expectError(
      await call(f.api.url, "POST", "/semaphore/acquire", { rawBody: '{"name":"m\\ud800"}', headers: json }),
      API_ERRORS.invalidInput,
      /name must not contain/,
    );
    assert.equal(f.snapshot(), snap);
    // A surrogate pair (one astral character) and NUL inside a value round-trip.
    assert.equal((await put('{"namespace":"vars/job/api","key":"\\ud83d\\ude00","value":"a\\u0000b\\ud83d\\ude00"}')).status, 200);
    f.kv.commit();
    assert.equal(f.bucket.kv.get("vars/job/api", "😀"), "a\u0000b😀");
    f.bucket.kv.delete("vars/job/api", "😀");
  });

  it("CONNECT and methods Node does not know get 405 with Allow, not a dropped connection", async () => {
    const connectRes = await rawExchange(f.api.port, `CONNECT 127.0.0.1:${f.api.port} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    assert.equal(statusOf(connectRes), 405, connectRes);
    assert.equal(headerOf(connectRes, "Allow"), "DELETE, GET, POST, PUT");
    assert.equal(bodyOf(connectRes).code, API_ERRORS.methodNotAllowed.code);
    const unknown = await rawExchange(f.api.port, `FOO /kv HTTP/1.1\r\nHost: 127.0.0.1\r\n${headLines()}\r\n`);
    assert.equal(statusOf(unknown), 405, unknown);
    assert.equal(headerOf(unknown, "Allow"), "DELETE, GET, PUT");
    assert.match(bodyOf(unknown).message, /Method FOO is not allowed/);
    const unknownPath = await rawExchange(f.api.port, "BREW /pot HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    assert.equal(statusOf(unknownPath), 405, unknownPath);
    assert.equal(headerOf(unknownPath, "Allow"), "DELETE, GET, POST, PUT");
    // Methods Node knows but no route takes were already 405s; still are.
    const propfind = await call(f.api.url, "PROPFIND", "/kv", { headers: h });
    expectError(propfind, API_ERRORS.methodNotAllowed, /PROPFIND/);
    assert.equal(propfind.headers.allow, "DELETE, GET, PUT");
  });

  it("an absolute-form target's authority passes the same host check as Host", async () => {
    const snap = f.snapshot();
    const body = JSON.stringify({ namespace: "vars/job/api", key: "abs", value: "x" });
    const send = (authority: string) =>
      rawExchange(
        f.api.port,
        `PUT http://${authority}/kv HTTP/1.1\r\nHost: 127.0.0.1:${f.api.port}\r\n${headLines()}Content-Type: application/json\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    for (const authority of [`evil.example:${f.api.port}`, "evil.example", `attacker@evil.example`]) {
      const r = await send(authority);
      assert.equal(statusOf(r), 403, `${authority}: ${r}`);
      assert.equal(bodyOf(r).code, API_ERRORS.foreignHost.code);
    }
    assert.equal(f.snapshot(), snap);
    for (const authority of [`127.0.0.1:${f.api.port}`, `localhost:${f.api.port}`]) assert.equal(statusOf(await send(authority)), 200, authority);
    f.kv.rollback();
  });

  it("Expect: 100-continue with a body over the limit gets 413 without 100; under it, 100 then the answer", async () => {
    const big = LIMITS.maxBodyBytes + 1;
    const refused = await rawExchange(
      f.api.port,
      `PUT /kv HTTP/1.1\r\nHost: 127.0.0.1\r\n${headLines()}Content-Type: application/json\r\nContent-Length: ${big}\r\nExpect: 100-continue\r\n\r\n`,
    );
    assert.equal(statusOf(refused), 413, refused);
    assert.doesNotMatch(refused, /100 Continue/);
    assert.equal(bodyOf(refused).code, API_ERRORS.payloadTooLarge.code);
    const body = JSON.stringify({ namespace: "vars/job/api", key: "cont", value: "v" });
    const accepted = await new Promise<string>((resolve, reject) => {
      const s = connect(f.api.port, "127.0.0.1");
      let text = "";
      s.on("data", (c: Buffer) => {
        text += c.toString("utf8");
        // Send the body only once the server said to.
        if (text.startsWith("HTTP/1.1 100 Continue\r\n\r\n") && !s.destroyed && text.length === "HTTP/1.1 100 Continue\r\n\r\n".length) s.write(body);
        if (/\r\n\r\n\{.*\}$/s.test(text.slice(25))) s.end();
      });
      s.on("error", reject);
      s.on("close", () => resolve(text));
      s.write(
        `PUT /kv HTTP/1.1\r\nHost: 127.0.0.1\r\n${headLines()}Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
          "Expect: 100-continue\r\n\r\n",
      );
    });
    assert.match(accepted, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 /);
    assert.equal(f.kv.get("vars/job/api", "cont"), "v");
    f.kv.rollback();
  });
});
