import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { BucketContext } from "../../server/bucket/context.js";
import { parseRetainDays } from "../../server/inspect/gc.js";
import { applyGc, planGc } from "../../server/store/gc.js";
import { manualClock, openTestBucket, type OpenTestBucket } from "./fixture.js";

const DAY = 86400_000;

describe("gc: KV history retention", () => {
  let bucket: OpenTestBucket;
  let ctx: BucketContext;
  const clock = manualClock();
  before(async () => {
    bucket = await openTestBucket(clock);
    ctx = bucket.ctx;
  });
  after(() => bucket.cleanup());

  const versions = (ns: string, key: string) =>
    ctx.db.prepare("SELECT version FROM kv WHERE namespace = ? AND key = ? ORDER BY version").pluck().all(ns, key) as number[];
  const gc = (days: number) => applyGc(ctx.db, planGc(ctx.db, clock.now(), days));

  it("keeps history for N days after it stopped being current, then purges it", () => {
    ctx.kv.put("vars/job/a", "k", "v1");
    clock.advance(30 * DAY);
    ctx.kv.put("vars/job/a", "k", "v2"); // v1 superseded just now, although written 30 days ago
    ctx.kv.put("secrets/job/a", "s", "x");
    ctx.kv.delete("secrets/job/a", "s");
    assert.deepEqual(gc(7), { allocations: 0, hashes: 0, allocationKvRows: 0, deadKeyRows: 0, supersededRows: 0 });
    assert.deepEqual(versions("vars/job/a", "k"), [1, 2]);

    clock.advance(8 * DAY);
    const r = gc(7);
    assert.equal(r.supersededRows, 1, "v1 of vars/job/a k");
    assert.equal(r.deadKeyRows, 2, "every version of the tombstoned secret");
    assert.deepEqual(versions("vars/job/a", "k"), [2]);
    assert.deepEqual(versions("secrets/job/a", "s"), []);
    assert.equal(ctx.kv.get("vars/job/a", "k"), "v2", "the live value is never purged");
  });

  it("--retain-days must be a non-negative integer", () => {
    assert.equal(parseRetainDays(undefined), 7);
    assert.equal(parseRetainDays("0"), 0);
    assert.equal(parseRetainDays("30"), 30);
    for (const bad of ["-1", "1.5", "x", "", " 3", "1e3", "99999999999999999999"]) {
      assert.throws(() => parseRetainDays(bad), (e: Error & { exitCode?: number }) => e.exitCode === 2 && /non-negative integer/.test(e.message), bad);
    }
  });
});
