import { after, before, beforeEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { API_ERRORS } from "../../server/api/errors.js";
import type { Invocation } from "../../server/api/registry.js";
import { bucketId } from "../../server/store/catalog.js";
import { ALLOC, call, expectApiError as expectError, startFixture, type Fixture } from "./fixture.js";

describe("KV read/write matrix (over HTTP)", () => {
  let f: Fixture;
  const running: Invocation[] = [];
  before(async () => {
    f = await startFixture();
  });
  after(() => f.close());
  beforeEach(() => {
    for (const inv of running.splice(0)) f.registry.unregister(inv.allocId);
    f.kv.rollback();
  });

  const as = (over: Partial<Omit<Invocation, "token">> = {}) => {
    const inv = f.invoke(over);
    running.push(inv);
    const headers = f.headersFor(inv);
    return {
      get: (namespace: string, key: string) => call(f.api.url, "GET", "/kv", { body: { namespace, key }, headers }),
      put: (namespace: string, key: string, value: string, ttl?: number) =>
        call(f.api.url, "PUT", "/kv", { body: { namespace, key, value, ...(ttl === undefined ? {} : { ttl }) }, headers }),
      del: (namespace: string, key: string) => call(f.api.url, "DELETE", "/kv", { body: { namespace, key }, headers }),
      putSecret: (namespace: string, key: string, value: string) => call(f.api.url, "PUT", "/kv/secret", { body: { namespace, key, value }, headers }),
      delSecret: (namespace: string, key: string) => call(f.api.url, "DELETE", "/kv/secret", { body: { namespace, key }, headers }),
      keys: (namespace?: string) => call(f.api.url, "GET", "/kv/keys", { body: namespace === undefined ? undefined : { namespace }, headers }),
    };
  };

  it("reads: bucket-wide namespaces, own worker, own job (secrets decrypted) and upstream demand jobs", async () => {
    const api = as();
    const readable: Array<[string, string, string]> = [
      ["maand/bucket", "bucket_id", bucketId(f.bucket.db)],
      ["maand/worker", "worker_workers", "10.0.0.1,10.0.0.2,10.0.0.3"],
      ["maand/worker/10.0.0.1", "worker_ip", "10.0.0.1"],
      ["maand/worker/10.0.0.1/tags", "zone", "a"],
      ["vars/bucket", "region", "eu"],
      ["vars/bucket/job/api", "replicas", "2"],
      ["maand/job/api/worker/10.0.0.1", "api_allocation_index", "0"],
      ["maand/job/api", "rollout_order", "10.0.0.1,10.0.0.2"],
      ["vars/job/api", "db_url", "postgres://db/api"],
      ["secrets/job/api", "db_password", "s3cret-api"],
      // upstream (api's hook_migrate demands database)
      ["maand/job/database", "version", "2.1.0"],
      ["vars/job/database", "dsn", "postgres://db"],
      ["secrets/job/database", "root_password", "s3cret-db"],
    ];
    for (const [ns, key, value] of readable) {
      const r = await api.get(ns, key);
      assert.equal(r.status, 200, `${ns}: ${r.text}`);
      assert.deepEqual(r.json, { namespace: ns, key, value });
    }
  });

  it("reads of unrelated jobs, downstream jobs and unknown namespaces are 400 Invalid or unauthorized namespace", async () => {
    const api = as();
    for (const [ns, key] of [
      ["maand/job/cache", "version"],
      ["vars/job/cache", "ttl"],
      ["secrets/job/cache", "token"],
      ["maand/job/cache/worker/10.0.0.2", "cache_allocation_index"],
      ["vars/job/web", "x"],
      ["secrets", "x"],
      ["maand", "x"],
      ["vars/job", "x"],
      ["vars/job/api/extra", "x"],
      ["secrets/bucket", "x"],
      ["maand/job//worker/10.0.0.1", "x"],
      ["/vars/job/api", "db_url"],
      ["vars/job/api/", "db_url"],
      ["maand/worker/10.0.0.1/other", "x"],
      ["maand/job/api/worker", "x"],
      // least privilege, as the original: other workers' and other jobs' per-worker and
      // bucket-level job keys, even of an upstream job
      ["maand/worker/10.0.0.2", "worker_ip"],
      ["maand/worker/10.0.0.2/tags", "zone"],
      ["maand/job/api/worker/10.0.0.2", "api_allocation_index"],
      ["maand/job/database/worker/10.0.0.1", "database_allocation_index"],
      ["vars/bucket/job/cache", "size"],
      ["vars/bucket/job/database", "x"],
    ]) {
      expectError(await api.get(ns!, key!), API_ERRORS.unauthorizedNamespace);
    }
    // the same keys are readable by the invocation they belong to
    const api2 = as({ allocId: ALLOC.api2, workerIp: "10.0.0.2" });
    assert.equal((await api2.get("maand/worker/10.0.0.2", "worker_ip")).json.value, "10.0.0.2");
    assert.equal((await api2.get("maand/worker/10.0.0.2/tags", "zone")).json.value, "b");
    assert.equal((await api2.get("maand/job/api/worker/10.0.0.2", "api_allocation_index")).json.value, "1");
    expectError(await api2.get("maand/worker/10.0.0.1", "worker_ip"), API_ERRORS.unauthorizedNamespace);
    const cache = as({ allocId: ALLOC.cache2, job: "cache", workerIp: "10.0.0.2", command: "hook_c" });
    assert.equal((await cache.get("vars/bucket/job/cache", "size")).json.value, "1g");
    // The note's exact message; a detail names the rule and the fix.
    const denied = await api.get("vars/job/cache", "ttl");
    assert.equal(denied.json.message, "Invalid or unauthorized namespace");
    assert.match(denied.json.detail, /^vars\/job\/cache is readable only when a hook of job api declares a demand on job cache/);
    const missing = await api.get("vars/job/api", "nope");
    assert.deepEqual(missing.json, { message: "KV get operation failed", code: "KEY_NOT_FOUND", detail: "vars/job/api has no key nope" });
    // database is upstream of api, not the other way round.
    const db = as({ allocId: ALLOC.db1, job: "database", command: "hook_schema" });
    expectError(await db.get("vars/job/api", "db_url"), API_ERRORS.unauthorizedNamespace);
    expectError(await db.get("secrets/job/api", "db_password"), API_ERRORS.unauthorizedNamespace);
    assert.equal((await db.get("secrets/job/database", "root_password")).json.value, "s3cret-db");
    // web demands database too (its own hook_seed), but knows nothing of api.
    const web = as({ allocId: ALLOC.web3, job: "web", workerIp: "10.0.0.3", command: "hook_seed" });
    assert.equal((await web.get("vars/job/database", "dsn")).status, 200);
    expectError(await web.get("maand/job/api", "version"), API_ERRORS.unauthorizedNamespace);
  });

  it("a missing, deleted or expired key is 404 KV get operation failed", async () => {
    const api = as();
    expectError(await api.get("vars/job/api", "nope"), API_ERRORS.keyNotFound);
    expectError(await api.get("vars/job/database", "nope"), API_ERRORS.keyNotFound);
    assert.equal((await api.put("vars/job/api", "short", "lived", 10)).status, 200);
    assert.equal((await api.get("vars/job/api", "short")).json.value, "lived");
    f.clock.advance(10_001);
    expectError(await api.get("vars/job/api", "short"), API_ERRORS.keyNotFound);
    assert.equal((await api.del("vars/job/api", "db_url")).json.deleted, true);
    expectError(await api.get("vars/job/api", "db_url"), API_ERRORS.keyNotFound);
  });

  it("PUT/DELETE /kv write only vars/job/<own job>, into the session (not maand.db)", async () => {
    const api = as();
    const rows = () => (f.bucket.db.prepare("SELECT COUNT(*) AS n FROM kv").get() as { n: number }).n;
    const before = rows();
    const put = await api.put("vars/job/api", "new", "v1", 0);
    assert.deepEqual(put.json, { namespace: "vars/job/api", key: "new", stored: true });
    assert.equal((await api.get("vars/job/api", "new")).json.value, "v1");
    assert.equal(f.kv.get("vars/job/api", "new"), "v1");
    assert.equal(rows(), before, "writes stay in the session until the engine commits");
    assert.deepEqual((await api.del("vars/job/api", "new")).json, { namespace: "vars/job/api", key: "new", deleted: true });
    expectError(await api.del("vars/job/api", "new"), API_ERRORS.keyNotFound);
    const snap = f.snapshot();
    for (const ns of ["maand/bucket", "maand/worker", "maand/worker/10.0.0.1", "maand/worker/10.0.0.1/tags", "vars/bucket",
      "vars/bucket/job/api", "maand/job/api/worker/10.0.0.1", "secrets/job/api", "vars/job/database", "maand/job/database",
      "secrets/job/database", "vars/job/cache", "nonsense"]) {
      expectError(await api.put(ns, "k", "v"), API_ERRORS.unauthorizedNamespace);
      expectError(await api.del(ns, "k"), API_ERRORS.unauthorizedNamespace);
    }
    expectError(await api.put("maand/job/api", "version", "9.9.9"), API_ERRORS.unauthorizedNamespace);
    expectError(await api.del("maand/job/api", "rollout_order"), API_ERRORS.unauthorizedNamespace);
    assert.equal(f.snapshot(), snap);
  });

  it("PUT/DELETE /kv/secret write only secrets/job/<own job>; values are encrypted when committed", async () => {
    const api = as();
    const put = await api.putSecret("secrets/job/api", "token", "plain-text-secret");
    assert.deepEqual(put.json, { namespace: "secrets/job/api", key: "token", stored: true });
    assert.doesNotMatch(put.text, /plain-text-secret/);
    assert.equal((await api.get("secrets/job/api", "token")).json.value, "plain-text-secret");
    const keys = await api.keys();
    assert.deepEqual(keys.json, { namespaces: { "vars/job/api": ["db_url"], "secrets/job/api": ["db_password", "token"] } });
    assert.doesNotMatch(keys.text, /s3cret|plain-text/);
    const snap = f.snapshot();
    for (const ns of ["vars/job/api", "secrets/job/database", "secrets/job/cache", "maand/job/api", "secrets/bucket"]) {
      expectError(await api.putSecret(ns, "k", "v"), API_ERRORS.unauthorizedNamespace);
      expectError(await api.delSecret(ns, "k"), API_ERRORS.unauthorizedNamespace);
    }
    assert.equal(f.snapshot(), snap);
    assert.equal((await api.delSecret("secrets/job/api", "db_password")).json.deleted, true);
    f.kv.commit();
    const row = f.bucket.db.prepare("SELECT value, encrypted FROM kv WHERE namespace = 'secrets/job/api' AND key = 'token'").get() as {
      value: string;
      encrypted: number;
    };
    assert.equal(row.encrypted, 1);
    assert.doesNotMatch(row.value, /plain-text-secret/);
    assert.equal(f.bucket.kv.get("secrets/job/api", "token"), "plain-text-secret");
    assert.equal(f.bucket.kv.get("secrets/job/api", "db_password"), undefined);
    // Restore the shared seed for the other tests.
    f.bucket.kv.put("secrets/job/api", "db_password", "s3cret-api");
    f.bucket.kv.delete("secrets/job/api", "token");
  });

  it("rollout_order: PUT only on pre_deploy or cli, only workers of the job, without repeats", async () => {
    for (const event of ["cli", "pre_deploy"]) {
      const api = as({ event });
      const r = await api.put("maand/job/api", "rollout_order", "10.0.0.2,10.0.0.1");
      assert.equal(r.status, 200, r.text);
      assert.equal((await api.get("maand/job/api", "rollout_order")).json.value, "10.0.0.2,10.0.0.1");
      assert.equal((await api.put("maand/job/api", "rollout_order", "10.0.0.2")).status, 200, "a subset is allowed");
      f.registry.unregister(running.pop()!.allocId);
      f.kv.rollback();
    }
    const api = as();
    const snap = f.snapshot();
    for (const [value, why] of [
      ["10.0.0.1,10.0.0.3", /10\.0\.0\.3.*not a worker of job api/], // removed allocation
      ["10.0.0.1,10.9.9.9", /10\.9\.9\.9/],
      ["10.0.0.1,10.0.0.1", /repeats 10\.0\.0\.1/],
      ["", /empty/],
      ["10.0.0.1,", /empty entry/],
    ] as const) {
      expectError(await api.put("maand/job/api", "rollout_order", value), API_ERRORS.invalidRolloutOrder, why);
    }
    assert.equal(f.snapshot(), snap);
    // Whitespace around entries is ignored, the way the planner reads the list; the canonical form is stored.
    assert.equal((await api.put("maand/job/api", "rollout_order", " 10.0.0.2 , 10.0.0.1")).status, 200);
    assert.equal((await api.get("maand/job/api", "rollout_order")).json.value, "10.0.0.2,10.0.0.1");
    f.kv.rollback();
    for (const event of ["post_deploy", "post_build", "job_control", "after_allocation_started"]) {
      const other = as({ allocId: ALLOC.api2, workerIp: "10.0.0.2", event, command: "hook_post" });
      expectError(await other.put("maand/job/api", "rollout_order", "10.0.0.1,10.0.0.2"), API_ERRORS.unauthorizedNamespace);
      f.registry.unregister(running.pop()!.allocId);
    }
    assert.equal(f.snapshot(), snap);
  });

  it("health_check hooks may read but never write", async () => {
    const hc = as({ event: "health_check", command: "hook_check" });
    const snap = f.snapshot();
    assert.equal((await hc.get("secrets/job/api", "db_password")).status, 200);
    for (const r of [
      await hc.put("vars/job/api", "k", "v"),
      await hc.del("vars/job/api", "db_url"),
      await hc.putSecret("secrets/job/api", "k", "v"),
      await hc.delSecret("secrets/job/api", "db_password"),
      await hc.put("maand/job/api", "rollout_order", "10.0.0.1"),
      await hc.put("vars/bucket", "k", "v"),
    ]) {
      expectError(r, API_ERRORS.healthCheckReadOnly);
    }
    assert.equal(f.snapshot(), snap);
  });

  it("GET /kv/keys: own job's vars and secrets only, sorted, never values", async () => {
    const api = as();
    await api.put("vars/job/api", "a_first", "1");
    await api.put("vars/job/api", "z_last", "1");
    assert.deepEqual((await api.keys()).json, {
      namespaces: { "vars/job/api": ["a_first", "db_url", "z_last"], "secrets/job/api": ["db_password"] },
    });
    assert.deepEqual((await api.keys("secrets/job/api")).json, { namespaces: { "secrets/job/api": ["db_password"] } });
    assert.deepEqual((await api.keys("")).json, (await api.keys()).json);
    // as the original: no other namespace, not even a readable one (upstream, bucket, worker)
    const snap = f.snapshot();
    for (const ns of ["secrets/job/database", "vars/job/database", "maand/job/database", "maand/worker/10.0.0.1/tags",
      "vars/bucket", "maand/job/api", "vars/bucket/job/api", "secrets/job/cache", "vars/job/nothing_here_but_own"]) {
      expectError(await api.keys(ns), API_ERRORS.unauthorizedNamespace);
    }
    assert.equal(f.snapshot(), snap);
    const viaQuery = await call(f.api.url, "GET", "/kv/keys?namespace=vars/job/database", { headers: f.headersFor(running[0]!) });
    expectError(viaQuery, API_ERRORS.unauthorizedNamespace);
  });

  it("GET /demands lists hooks whose demands name this job and the COMMAND hook", async () => {
    const db = as({ allocId: ALLOC.db1, job: "database", command: "hook_schema" });
    void db;
    const headers = f.headersFor(running[0]!);
    const r = await call(f.api.url, "GET", "/demands", { headers });
    assert.deepEqual(r.json, [
      { job: "api", hook: "hook_migrate", command: "hook_migrate", demand_config: { min_version: "2.0.0" } },
      { job: "web", hook: "hook_seed", command: "hook_seed", demand_config: {} },
    ]);
    const api = f.invoke({ allocId: ALLOC.api2, workerIp: "10.0.0.2" });
    running.push(api);
    assert.deepEqual((await call(f.api.url, "GET", "/demands", { headers: f.headersFor(api) })).json, []);
    // Another command of the same job has no dependants.
    const other = f.invoke({ allocId: ALLOC.cache2, job: "database", command: "hook_other" });
    running.push(other);
    assert.deepEqual((await call(f.api.url, "GET", "/demands", { headers: f.headersFor(other) })).json, []);
  });
});
