import { afterEach, beforeEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { writeWorkspace, type WorkspaceFixture } from "../helpers/bucket.js";
import type { BucketContext } from "../../server/bucket/context.js";
import { runBuild } from "../../server/build/run.js";
import { allocationId } from "../../server/build/ids.js";
import { applyGc, planGc } from "../../server/store/gc.js";
import { builtBucket, manualClock, threeByThree, type OpenTestBucket } from "./fixture.js";

interface Alloc {
  alloc_id: string;
  job: string;
  worker_ip: string;
  disabled: number;
  removed: number;
  removed_at: number | null;
}

describe("build: allocations, removal, gc and disabled.json", () => {
  let bucket: OpenTestBucket;
  let ctx: BucketContext;
  const clock = manualClock();

  beforeEach(async () => {
    bucket = await builtBucket(clock);
    ctx = bucket.ctx;
  });
  afterEach(() => bucket.cleanup());

  const allocs = () =>
    Object.fromEntries(
      (ctx.db.prepare("SELECT alloc_id, job, worker_ip, disabled, removed, removed_at FROM allocations").all() as Alloc[]).map((a) => [`${a.job}|${a.worker_ip}`, a]),
    );
  const values = (ns: string) => Object.fromEntries(ctx.kv.entries(ns).map((e) => [e.key, e.value]));
  const rebuild = async (change: (ws: WorkspaceFixture) => void) => {
    const ws = threeByThree();
    change(ws);
    writeWorkspace(bucket.root, ws);
    clock.advance(1000);
    return runBuild(ctx);
  };
  const withoutWorker2 = (ws: WorkspaceFixture) => {
    ws.workers = ws.workers!.filter((w) => (w as { host: string }).host !== "10.0.0.2");
  };

  it("a worker that leaves marks its allocations removed; peers, indexes and lists follow", async () => {
    const r = await rebuild(withoutWorker2);
    assert.deepEqual(r.summary.workers, { added: 0, removed: 1, changed: 1 }, "10.0.0.3 moved to position 1");
    assert.equal(r.summary.allocations.removed, 2);
    const a = allocs();
    for (const k of ["api|10.0.0.2", "db|10.0.0.2"]) {
      assert.equal(a[k]!.removed, 1, k);
      assert.equal(a[k]!.removed_at, clock.now(), k);
    }
    assert.equal(a["api|10.0.0.1"]!.removed, 0);
    assert.deepEqual(ctx.kv.keys("maand/worker/10.0.0.2"), [], "namespace of a departed worker is tombstoned");
    assert.deepEqual(values("maand/job/api/worker/10.0.0.1"), { ...values("maand/job/api/worker/10.0.0.1"), api_allocation_index: "0", peer_workers: "" });
    assert.equal(values("maand/job/db/worker/10.0.0.3").db_allocation_index, "0");
    assert.equal(values("maand/job/api").workers, "10.0.0.1");
    assert.equal(ctx.kv.get("maand/job/api", "worker_1"), undefined);
    assert.equal(values("maand/worker").api_workers, "10.0.0.1");
    assert.equal(ctx.kv.get("maand/worker", "api_1"), undefined);
    assert.equal(values("maand/worker/10.0.0.3").position, "1");
    // a removed allocation's own namespace stays as it was until gc
    assert.equal(values("maand/job/api/worker/10.0.0.2").api_allocation_index, "1");
  });

  it("gc purges removed allocations, their hash rows and every KV row of their namespaces", async () => {
    await rebuild(withoutWorker2);
    const nsRows = (ns: string) => ctx.db.prepare("SELECT COUNT(*) FROM kv WHERE namespace = ?").pluck().get(ns) as number;
    const before = nsRows("maand/job/api/worker/10.0.0.2") + nsRows("maand/job/db/worker/10.0.0.2");
    assert.ok(before > 0);
    const r = applyGc(ctx.db, planGc(ctx.db, clock.now(), 7));
    assert.equal(r.allocations, 2);
    assert.equal(r.hashes, 2);
    assert.equal(r.allocationKvRows, before);
    assert.equal(nsRows("maand/job/api/worker/10.0.0.2") + nsRows("maand/job/db/worker/10.0.0.2"), 0);
    assert.equal(ctx.db.prepare("SELECT COUNT(*) FROM allocations WHERE removed = 1").pluck().get(), 0);
    assert.equal(ctx.db.prepare("SELECT COUNT(*) FROM hash WHERE alloc_id NOT IN (SELECT alloc_id FROM allocations)").pluck().get(), 0);
    assert.equal(ctx.db.prepare("SELECT COUNT(*) FROM allocations").pluck().get(), 3);

    // the worker comes back: same derived IDs, fresh namespaces
    const back = await rebuild(() => {});
    assert.equal(back.summary.allocations.added, 2);
    assert.equal(allocs()["api|10.0.0.2"]!.alloc_id, allocationId("api", "10.0.0.2"));
    assert.equal(values("maand/job/api/worker/10.0.0.2").api_allocation_index, "1");
  });

  it("a worker back before gc restores its allocations (removed cleared, same IDs)", async () => {
    const ids = Object.fromEntries(Object.entries(allocs()).map(([k, a]) => [k, a.alloc_id]));
    await rebuild(withoutWorker2);
    const r = await rebuild(() => {});
    assert.equal(r.summary.allocations.restored, 2);
    const a = allocs();
    assert.equal(a["api|10.0.0.2"]!.removed, 0);
    assert.equal(a["api|10.0.0.2"]!.removed_at, null);
    assert.deepEqual(Object.fromEntries(Object.entries(a).map(([k, x]) => [k, x.alloc_id])), ids);
    assert.equal(values("maand/worker/10.0.0.2").jobs, "api,db");
  });

  it("a job that leaves, and a worker that stops matching, mark allocations removed", async () => {
    const r = await rebuild((ws) => {
      delete ws.jobs!.cache;
      (ws.workers![0] as { labels: string[] }).labels = ["db"];
    });
    assert.equal(r.summary.jobs.removed, 1);
    const a = allocs();
    assert.equal(a["cache|10.0.0.3"]!.removed, 1);
    assert.equal(a["api|10.0.0.1"]!.removed, 1);
    assert.equal(a["db|10.0.0.1"]!.removed, 0);
    assert.equal(ctx.db.prepare("SELECT COUNT(*) FROM jobs WHERE name = 'cache'").pluck().get(), 0);
    assert.equal(ctx.db.prepare("SELECT COUNT(*) FROM hooks WHERE job = 'cache'").pluck().get(), 0);
    assert.equal(ctx.db.prepare("SELECT COUNT(*) FROM job_files WHERE job = 'cache'").pluck().get(), 0);
    assert.deepEqual(ctx.kv.keys("maand/job/cache"), []);
    assert.equal(values("maand/bucket").jobs, "api,db");
    assert.equal(values("maand/job/db").workers, "10.0.0.1,10.0.0.2,10.0.0.3");
    assert.equal(values("maand/job/api").workers, "10.0.0.2");
    assert.equal(values("maand/worker/10.0.0.1").jobs, "db");
  });

  it("disabled.json: a whole job", async () => {
    await rebuild((ws) => (ws.disabled = { jobs: { api: {} } }));
    const a = allocs();
    assert.equal(a["api|10.0.0.1"]!.disabled, 1);
    assert.equal(a["api|10.0.0.2"]!.disabled, 1);
    assert.equal(a["db|10.0.0.2"]!.disabled, 0);
    const job = values("maand/job/api");
    assert.equal(job.workers, "");
    assert.equal(job.workers_length, "0");
    assert.equal(job.rollout_order, "");
    assert.equal(job.worker_0, undefined);
    assert.equal(values("maand/bucket").activejobs, "cache,db");
    // disabled allocations are not removed: their namespaces and indexes stay
    assert.equal(values("maand/job/api/worker/10.0.0.2").api_allocation_index, "1");
    assert.equal(values("maand/worker/10.0.0.1").jobs, "api");
  });

  it("disabled.json: some allocations of a job", async () => {
    await rebuild((ws) => (ws.disabled = { jobs: { db: { allocations: ["10.0.0.2"] } } }));
    const a = allocs();
    assert.equal(a["db|10.0.0.2"]!.disabled, 1);
    assert.equal(a["db|10.0.0.3"]!.disabled, 0);
    assert.equal(a["api|10.0.0.2"]!.disabled, 0);
    const job = values("maand/job/db");
    assert.equal(job.workers, "10.0.0.3");
    assert.equal(job.worker_0, "10.0.0.3");
    assert.equal(job.worker_1, undefined);
    assert.equal(values("maand/job/db/worker/10.0.0.3").db_allocation_index, "1", "index among non-removed peers");
    assert.equal(values("maand/job/db/worker/10.0.0.3").peer_workers, "10.0.0.2");
    assert.equal(values("maand/bucket").activejobs, "api,cache,db");
  });

  it("disabled.json: a whole worker, then enabled again", async () => {
    await rebuild((ws) => (ws.disabled = { workers: ["10.0.0.2"] }));
    let a = allocs();
    assert.equal(a["api|10.0.0.2"]!.disabled, 1);
    assert.equal(a["db|10.0.0.2"]!.disabled, 1);
    assert.equal(a["api|10.0.0.1"]!.disabled, 0);
    assert.equal(values("maand/job/api").workers, "10.0.0.1");
    assert.equal(values("maand/job/db").workers, "10.0.0.3");
    assert.equal(values("maand/worker").api_workers, "10.0.0.1,10.0.0.2", "label lists keep disabled workers");

    await rebuild(() => {});
    a = allocs();
    assert.equal(a["api|10.0.0.2"]!.disabled, 0);
    assert.equal(values("maand/job/api").workers, "10.0.0.1,10.0.0.2");
    assert.equal(values("maand/job/api").rollout_order, "10.0.0.1,10.0.0.2");
  });
});
