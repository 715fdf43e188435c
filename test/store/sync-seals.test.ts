import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { purgeDeployState, recordStep } from "../../server/store/deploy-state.js";
import { dropUnreferencedSealFiles, putSealFiles, readSyncSeal } from "../../server/store/sync-seals.js";
import { builtBucket, type OpenTestBucket } from "../build/fixture.js";

const H = (c: string) => c.repeat(64);

describe("sync seals as maand records them: a token and the file list per allocation, lists stored once", () => {
  let b: OpenTestBucket;
  before(async () => {
    b = await builtBucket();
  });
  after(() => b.cleanup());
  const lists = () => b.ctx.db.prepare("SELECT COUNT(*) FROM sync_seal_files").pluck().get() as number;
  const allocs = () => b.ctx.db.prepare("SELECT alloc_id, job, worker_ip FROM allocations ORDER BY alloc_id").all() as Array<{ alloc_id: string; job: string; worker_ip: string }>;

  it("reads nothing before a seal, then the token and (only when asked) the files, in path order", () => {
    const [a1, a2] = allocs();
    assert.equal(readSyncSeal(b.ctx.db, a1!.alloc_id), undefined);
    const files = [
      { path: "b.sh", hash: H("b"), mode: 0o755 },
      { path: "a.conf", hash: H("a"), mode: 0o644 },
    ];
    const key = putSealFiles(b.ctx.db, files);
    // The same files in another order are the same list.
    assert.equal(putSealFiles(b.ctx.db, [...files].reverse()), key);
    recordStep(b.ctx.db, a1!, { sync_seal: "0123456789abcdef0123456789abcdef", sync_seal_files: key }, null);
    recordStep(b.ctx.db, a2!, { sync_seal: "fedcba9876543210fedcba9876543210", sync_seal_files: key }, null);
    assert.equal(lists(), 1);
    const seal = readSyncSeal(b.ctx.db, a1!.alloc_id)!;
    assert.equal(seal.token, "0123456789abcdef0123456789abcdef");
    assert.deepEqual(Object.entries(seal.files()), [
      ["a.conf", [H("a"), 0o644]],
      ["b.sh", [H("b"), 0o755]],
    ]);
  });

  it("a list no allocation refers to is dropped, by the next seal's transaction or by gc's purge", () => {
    const [a1, a2] = allocs();
    const next = putSealFiles(b.ctx.db, [{ path: "a.conf", hash: H("c"), mode: 0o644 }]);
    recordStep(b.ctx.db, a1!, { sync_seal: "11111111111111111111111111111111", sync_seal_files: next }, null);
    dropUnreferencedSealFiles(b.ctx.db);
    assert.equal(lists(), 2, "a2 still refers to the first list");
    recordStep(b.ctx.db, a2!, { sync_seal: "", sync_seal_files: "" }, null);
    assert.equal(readSyncSeal(b.ctx.db, a2!.alloc_id), undefined, "a cleared seal reads as none");
    dropUnreferencedSealFiles(b.ctx.db);
    assert.equal(lists(), 1);
    purgeDeployState(b.ctx.db, [a1!.alloc_id]);
    assert.equal(lists(), 0);
  });
});
