import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { API_ERRORS } from "../../server/api/errors.js";
import { ALLOC, call, startFixture, type Fixture } from "./fixture.js";

/** A leaf's private key is encrypted in maand.db only: GET /kv hands the hook its PEM. */
describe("GET /kv of a certificate's private key (encrypted at rest)", () => {
  let f: Fixture;
  const NS = "maand/job/api/worker/10.0.0.1";
  const pem = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ type: "pkcs8", format: "pem" }) as string;
  before(async () => {
    f = await startFixture();
    f.bucket.kv.put(NS, "certs/server.key", pem);
    f.bucket.kv.put(NS, "certs/server.crt", "-----BEGIN CERTIFICATE-----\n");
  });
  after(() => f.close());

  it("stores the key encrypted and returns the PEM to the allocation's own hook", async () => {
    const row = f.bucket.kv.latest(NS, "certs/server.key")!;
    assert.equal(row.encrypted, 1);
    assert.ok(!row.value.includes("PRIVATE KEY"));
    assert.equal(f.bucket.kv.latest(NS, "certs/server.crt")!.encrypted, 0);

    const inv = f.invoke();
    try {
      const r = await call(f.api.url, "GET", "/kv", { body: { namespace: NS, key: "certs/server.key" }, headers: f.headersFor(inv) });
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.json, { namespace: NS, key: "certs/server.key", value: pem });
    } finally {
      f.registry.unregister(inv.allocId);
    }
  });

  it("another job's hook without a demand on api still may not read it", async () => {
    const inv = f.invoke({ allocId: ALLOC.cache2, job: "cache", workerIp: "10.0.0.2", command: "hook_x" });
    try {
      const r = await call(f.api.url, "GET", "/kv", { body: { namespace: NS, key: "certs/server.key" }, headers: f.headersFor(inv) });
      const denied = API_ERRORS.unauthorizedNamespace;
      assert.equal(r.status, denied.status, r.text);
      assert.deepEqual(r.json, {
        message: denied.message,
        code: denied.code,
        detail: `${NS} belongs to worker 10.0.0.1; this hook runs for 10.0.0.2 and reads only its own worker's keys`,
      });
      assert.ok(!r.text.includes("PRIVATE KEY"));
    } finally {
      f.registry.unregister(inv.allocId);
    }
  });
});
