import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { X509Certificate, createPrivateKey } from "node:crypto";
import { readFileSync } from "node:fs";
import { makeBucket, writeWorkspace } from "../helpers/bucket.js";
import { openBucket, type BucketContext } from "../../server/bucket/context.js";
import { runBuild, type BuildResult } from "../../server/build/run.js";
import { planBuild, isNoOp } from "../../server/build/plan.js";
import { readBuildState } from "../../server/build/snapshot.js";
import { readWorkspace } from "../../server/workspace/read.js";
import { allocationId, jobId, workerId } from "../../server/build/ids.js";
import { latestKvRows } from "../../server/store/catalog.js";
import { dumpCatalog, storedCerts, threeByThree } from "./fixture.js";

describe("build: 3 workers x 3 jobs, KV key by key (SPEC §5)", () => {
  let bucket: { root: string; cleanup(): void };
  let ctx: BucketContext;
  let first: BuildResult;

  before(async () => {
    bucket = await makeBucket();
    writeWorkspace(bucket.root, threeByThree());
    ctx = openBucket(bucket.root);
    first = await runBuild(ctx);
  });
  after(() => {
    ctx.close();
    bucket.cleanup();
  });

  const keysOf = (ns: string) => ctx.kv.keys(ns);
  const values = (ns: string) => Object.fromEntries(ctx.kv.entries(ns).map((e) => [e.key, e.value]));

  it("writes exactly the build-owned namespaces", () => {
    const namespaces = [...new Set(latestKvRows(ctx.db).map((r) => r.namespace))].sort();
    assert.deepEqual(namespaces, [
      "maand/bucket",
      "maand/job/api",
      "maand/job/api/worker/10.0.0.1",
      "maand/job/api/worker/10.0.0.2",
      "maand/job/cache",
      "maand/job/cache/worker/10.0.0.3",
      "maand/job/db",
      "maand/job/db/worker/10.0.0.2",
      "maand/job/db/worker/10.0.0.3",
      "maand/worker",
      "maand/worker/10.0.0.1",
      "maand/worker/10.0.0.1/tags",
      "maand/worker/10.0.0.2",
      "maand/worker/10.0.0.3",
      "vars/bucket",
      "vars/bucket/job/api",
      "vars/job/api",
    ]);
  });

  it("maand/bucket", () => {
    const bucketId = (ctx.db.prepare("SELECT bucket_id FROM bucket").pluck().get() as string);
    assert.deepEqual(values("maand/bucket"), { activejobs: "api,cache,db", bucket_id: bucketId, jobs: "api,cache,db" });
  });

  it("maand/worker: label lists, lengths, indexes and the CA", () => {
    const v = values("maand/worker");
    assert.equal(v["certs/ca.crt"], readFileSync(ctx.paths.caCrt, "utf8"));
    delete v["certs/ca.crt"];
    assert.deepEqual(v, {
      api_workers: "10.0.0.1,10.0.0.2",
      api_workers_length: "2",
      api_0: "10.0.0.1",
      api_1: "10.0.0.2",
      cache_workers: "10.0.0.3",
      cache_workers_length: "1",
      cache_0: "10.0.0.3",
      db_workers: "10.0.0.2,10.0.0.3",
      db_workers_length: "2",
      db_0: "10.0.0.2",
      db_1: "10.0.0.3",
      worker_workers: "10.0.0.1,10.0.0.2,10.0.0.3",
      worker_workers_length: "3",
      worker_0: "10.0.0.1",
      worker_1: "10.0.0.2",
      worker_2: "10.0.0.3",
    });
  });

  it("maand/worker/<ip> and its tags", () => {
    assert.deepEqual(values("maand/worker/10.0.0.1"), {
      worker_ip: "10.0.0.1",
      worker_id: workerId("10.0.0.1"),
      hostname: "w1",
      position: "0",
      labels: "api,worker",
      worker_memory_mb: "8192",
      worker_cpu_mhz: "4000",
      jobs: "api",
    });
    assert.deepEqual(values("maand/worker/10.0.0.1/tags"), { rack: "r1", zone: "a" });
    const w2 = values("maand/worker/10.0.0.2");
    assert.equal(w2.labels, "api,db,worker");
    assert.equal(w2.jobs, "api,db");
    assert.equal(w2.position, "1");
    assert.equal(w2.worker_memory_mb, "0");
    assert.equal(values("maand/worker/10.0.0.3").jobs, "cache,db");
    assert.deepEqual(keysOf("maand/worker/10.0.0.2/tags"), []);
  });

  it("maand/job/<job>", () => {
    assert.deepEqual(values("maand/job/api"), {
      name: "api",
      job_id: jobId("api"),
      version: "1.2.0",
      selectors: "api",
      workers: "10.0.0.1,10.0.0.2",
      workers_length: "2",
      worker_0: "10.0.0.1",
      worker_1: "10.0.0.2",
      rollout_order: "10.0.0.1,10.0.0.2",
    });
    assert.deepEqual(values("maand/job/cache"), {
      name: "cache",
      job_id: jobId("cache"),
      version: "0.1.0",
      selectors: "cache",
      workers: "10.0.0.3",
      workers_length: "1",
      worker_0: "10.0.0.3",
      rollout_order: "10.0.0.3",
    });
    assert.equal(values("maand/job/db").workers, "10.0.0.2,10.0.0.3");
  });

  it("maand/job/<job>/worker/<ip>: index, peers, version, certs", () => {
    const a1 = values("maand/job/api/worker/10.0.0.1");
    assert.deepEqual(Object.keys(a1).sort(), ["api_allocation_index", "certs/server.crt", "certs/server.key", "peer_workers", "version"]);
    assert.equal(a1.api_allocation_index, "0");
    assert.equal(a1.peer_workers, "10.0.0.2");
    assert.equal(a1.version, "1.2.0");
    const a2 = values("maand/job/api/worker/10.0.0.2");
    assert.equal(a2.api_allocation_index, "1");
    assert.equal(a2.peer_workers, "10.0.0.1");
    const d3 = values("maand/job/db/worker/10.0.0.3");
    assert.deepEqual(d3, { db_allocation_index: "1", peer_workers: "10.0.0.2", version: "2.0.0" });
    const c3 = values("maand/job/cache/worker/10.0.0.3");
    assert.equal(c3.cache_allocation_index, "0");
    assert.equal(c3.peer_workers, "");

    const ca = new X509Certificate(readFileSync(ctx.paths.caCrt));
    const server = new X509Certificate(a1["certs/server.crt"]!);
    assert.ok(server.verify(ca.publicKey), "leaf signed by the bucket CA");
    assert.equal(server.subjectAltName, "IP Address:10.0.0.1");
    assert.match(server.subject, /CN=api/);
    assert.match(server.subject, /O=maand/);
    assert.match(a1["certs/server.key"]!, /^-----BEGIN EC PRIVATE KEY-----/, "pkcs8 false -> SEC1");
    assert.ok(server.checkPrivateKey(createPrivateKey(a1["certs/server.key"]!)), "key matches the certificate");
    assert.match(c3["certs/tls.key"]!, /^-----BEGIN PRIVATE KEY-----/, "pkcs8 true -> PKCS#8");
    assert.equal(new X509Certificate(c3["certs/tls.crt"]!).subjectAltName, "IP Address:10.0.0.3");
  });

  it("vars/bucket, vars/bucket/job/<job>, vars/job/<job>", () => {
    assert.deepEqual(values("vars/bucket"), { env: "prod", region: "eu" });
    assert.deepEqual(values("vars/bucket/job/api"), { replicas: "2" });
    assert.deepEqual(values("vars/job/api"), { name: "api", port: "8080" });
  });

  it("catalog rows: stable IDs, deployment_seq, hooks, files, allocations with hash rows", () => {
    const workers = ctx.db.prepare("SELECT worker_id, worker_ip, position FROM workers ORDER BY position").all();
    assert.deepEqual(workers, ["10.0.0.1", "10.0.0.2", "10.0.0.3"].map((ip, i) => ({ worker_id: workerId(ip), worker_ip: ip, position: i })));
    const jobs = ctx.db.prepare("SELECT name, job_id, deployment_seq, version, selectors FROM jobs ORDER BY name").all();
    assert.deepEqual(jobs, [
      { name: "api", job_id: jobId("api"), deployment_seq: 0, version: "1.2.0", selectors: '["api"]' },
      { name: "cache", job_id: jobId("cache"), deployment_seq: 1, version: "0.1.0", selectors: '["cache"]' },
      { name: "db", job_id: jobId("db"), deployment_seq: 0, version: "2.0.0", selectors: '["db"]' },
    ]);
    const hooks = ctx.db.prepare("SELECT job, hook, event, script, timeout_seconds, demand_job, demand_hook, demand_config FROM hooks ORDER BY job, hook, event").all();
    assert.deepEqual(hooks, [
      { job: "api", hook: "hook_ready", event: "cli", script: "_hooks/hook_ready.py", timeout_seconds: 3600, demand_job: null, demand_hook: null, demand_config: null },
      { job: "api", hook: "hook_ready", event: "health_check", script: "_hooks/hook_ready.py", timeout_seconds: 3600, demand_job: null, demand_hook: null, demand_config: null },
      { job: "cache", hook: "hook_warm", event: "pre_deploy", script: "_hooks/hook_warm.py", timeout_seconds: 3600, demand_job: "db", demand_hook: "hook_schema", demand_config: '{"min_version":"1.0.0"}' },
      { job: "db", hook: "hook_schema", event: "cli", script: "_hooks/hook_schema.py", timeout_seconds: 3600, demand_job: null, demand_hook: null, demand_config: null },
    ]);
    const bin = ctx.db.prepare("SELECT f.mode, f.hash, CAST(b.content AS TEXT) AS content FROM job_files f JOIN file_blobs b USING (hash) WHERE f.job = 'api' AND f.path = 'bin.sh'").get() as { mode: number; content: string };
    assert.equal(bin.mode & 0o777, 0o755);
    assert.equal(bin.content, "#!/bin/sh\n");
    const allocs = ctx.db
      .prepare("SELECT a.alloc_id, a.job, a.worker_ip, a.disabled, a.removed, a.deployment_seq, a.new_version, h.current_version FROM allocations a JOIN hash h USING (alloc_id) ORDER BY job, worker_ip")
      .all();
    const row = (job: string, ip: string, seq: number, version: string) => ({
      alloc_id: allocationId(job, ip), job, worker_ip: ip, disabled: 0, removed: 0, deployment_seq: seq, new_version: version, current_version: "0.0.0",
    });
    assert.deepEqual(allocs, [
      row("api", "10.0.0.1", 0, "1.2.0"),
      row("api", "10.0.0.2", 0, "1.2.0"),
      row("cache", "10.0.0.3", 1, "0.1.0"),
      row("db", "10.0.0.2", 0, "2.0.0"),
      row("db", "10.0.0.3", 0, "2.0.0"),
    ]);
    assert.equal(first.summary.allocations.added, 5);
    assert.equal(first.summary.certs.issued, 3);
  });

  it("a rebuild keeps every ID, reuses the certs and writes zero KV rows and no catalog row", async () => {
    const before = dumpCatalog(ctx.paths.db);
    const ws = readWorkspace(ctx.paths, ctx.conf);
    const state = readBuildState(ctx.db, (row) => ctx.kv.decode(row));
    const caCertPem = readFileSync(ctx.paths.caCrt, "utf8");
    // the stored certs are what a rebuild reuses
    const certs = storedCerts(ctx);
    assert.ok(isNoOp(planBuild({ workspace: ws, state, now: ctx.clock.now(), caCertPem, certs })), "the plan of an unchanged workspace is empty");

    const again = await runBuild(ctx);
    assert.deepEqual(again.summary.kv, { written: 0, tombstoned: 0 });
    assert.deepEqual(again.summary.certs, { issued: 0, reused: 3 });
    assert.deepEqual(dumpCatalog(ctx.paths.db), before, "catalog and KV byte-for-byte unchanged");
  });
});
