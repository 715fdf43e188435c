import { afterEach, beforeEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { writeWorkspace, type WorkspaceFixture } from "../helpers/bucket.js";
import type { BucketContext } from "../../server/bucket/context.js";
import { runBuild } from "../../server/build/run.js";
import type { KvRow } from "../../server/store/kv.js";
import { builtBucket, manualClock, threeByThree, type OpenTestBucket } from "./fixture.js";

describe("build: KV sync, merge, TTL and secrets", () => {
  let bucket: OpenTestBucket;
  let ctx: BucketContext;
  const clock = manualClock();

  beforeEach(async () => {
    bucket = await builtBucket(clock);
    ctx = bucket.ctx;
  });
  afterEach(() => bucket.cleanup());

  const rebuild = async (change: (ws: WorkspaceFixture) => void = () => {}) => {
    const ws = threeByThree();
    change(ws);
    writeWorkspace(bucket.root, ws);
    clock.advance(1000);
    return runBuild(ctx);
  };
  const latest = (ns: string, key: string) => ctx.kv.latest(ns, key);

  it("vars/job merge: hook-written keys survive, vars.toml keys are put only when they differ", async () => {
    ctx.kv.put("vars/job/api", "hook_key", "from-hook");
    ctx.kv.put("vars/job/api", "port", "9999"); // a hook overrode a vars.toml key
    const nameVersion = latest("vars/job/api", "name")!.version;
    await rebuild((ws) => {
      ws.jobs!.api!.vars = 'port = 8080\nname = "api"\nextra = true\n';
    });
    assert.equal(ctx.kv.get("vars/job/api", "hook_key"), "from-hook");
    assert.equal(ctx.kv.get("vars/job/api", "port"), "8080", "vars.toml wins for its own keys");
    assert.equal(ctx.kv.get("vars/job/api", "extra"), "true");
    assert.equal(latest("vars/job/api", "name")!.version, nameVersion, "unchanged key not rewritten");

    // a key dropped from vars.toml is not tombstoned either (put-only)
    await rebuild((ws) => (ws.jobs!.api!.vars = "port = 8080\n"));
    assert.equal(ctx.kv.get("vars/job/api", "name"), "api");
    assert.equal(ctx.kv.get("vars/job/api", "hook_key"), "from-hook");
  });

  it("build-owned namespaces are synced: stale keys tombstoned, rollout_order reset", async () => {
    ctx.kv.put("maand/job/api", "rollout_order", "10.0.0.2,10.0.0.1");
    ctx.kv.put("maand/job/api", "stray", "x");
    const r = await rebuild((ws) => {
      ws.bucketConf = 'env = "prod"\n';
      ws.bucketJobsConf = "";
    });
    assert.equal(ctx.kv.get("maand/job/api", "rollout_order"), "10.0.0.1,10.0.0.2");
    assert.equal(ctx.kv.get("maand/job/api", "stray"), undefined);
    assert.equal(latest("maand/job/api", "stray")!.deleted, 1);
    assert.equal(ctx.kv.get("vars/bucket", "region"), undefined);
    assert.equal(ctx.kv.get("vars/bucket", "env"), "prod");
    assert.deepEqual(ctx.kv.keys("vars/bucket/job/api"), []);
    assert.deepEqual(r.summary.kv, { written: 1, tombstoned: 3 });
  });

  it("every expired TTL key is tombstoned by build, in any namespace", async () => {
    ctx.kv.put("vars/job/api", "lease", "1", 60);
    ctx.kv.put("secrets/job/api", "token", "s3cret", 60);
    ctx.kv.put("secrets/job/api", "forever", "keep");
    ctx.kv.put("vars/job/db", "fresh", "1", 3600);
    clock.advance(61_000);
    const r = await rebuild();
    for (const [ns, key] of [["vars/job/api", "lease"], ["secrets/job/api", "token"]] as const) {
      const row = latest(ns, key) as KvRow;
      assert.equal(row.deleted, 1, `${ns} ${key} tombstoned`);
      assert.equal(row.version, 2);
    }
    assert.equal(ctx.kv.get("secrets/job/api", "forever"), "keep");
    assert.equal(ctx.kv.get("vars/job/db", "fresh"), "1", "not yet expired");
    assert.deepEqual(r.summary.kv, { written: 0, tombstoned: 2 });
    // tombstoned once: the next build has nothing to do
    assert.deepEqual((await rebuild()).summary.kv, { written: 0, tombstoned: 0 });
  });

  it("an expired key that vars.toml defines is rewritten, not tombstoned", async () => {
    ctx.kv.put("vars/job/api", "port", "1", 10);
    clock.advance(11_000);
    await rebuild();
    assert.equal(ctx.kv.get("vars/job/api", "port"), "8080");
    assert.equal(latest("vars/job/api", "port")!.ttl, 0);
  });

  it("secrets are stored encrypted, never in plaintext, and build leaves them alone", async () => {
    ctx.kv.put("secrets/job/api", "password", "hunter2-plaintext");
    const raw = ctx.db.prepare("SELECT value, encrypted FROM kv WHERE namespace = 'secrets/job/api' AND key = 'password'").get() as { value: string; encrypted: number };
    assert.equal(raw.encrypted, 1);
    assert.ok(!raw.value.includes("hunter2"), "ciphertext only");
    const everything = (ctx.db.prepare("SELECT group_concat(value, '|') FROM kv").pluck().get() as string) ?? "";
    assert.ok(!everything.includes("hunter2-plaintext"));
    await rebuild();
    assert.equal(ctx.kv.get("secrets/job/api", "password"), "hunter2-plaintext");
    assert.equal(latest("secrets/job/api", "password")!.version, 1);
  });

  it("namespaces of a job that left are tombstoned, its secrets are not", async () => {
    ctx.kv.put("vars/job/cache", "hook_key", "1");
    ctx.kv.put("secrets/job/cache", "pw", "x");
    await rebuild((ws) => delete ws.jobs!.cache);
    assert.deepEqual(ctx.kv.keys("maand/job/cache"), []);
    assert.deepEqual(ctx.kv.keys("vars/job/cache"), []);
    assert.equal(ctx.kv.get("secrets/job/cache", "pw"), "x");
    assert.equal(ctx.kv.get("maand/job/cache/worker/10.0.0.3", "cache_allocation_index"), "0", "removed allocation kept until gc");
  });
});
