import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import Database from "better-sqlite3";
import { makeBucket, writeWorkspace } from "../helpers/bucket.js";
import { openBucket } from "../../server/bucket/context.js";
import { runBuild, type BuildResult } from "../../server/build/run.js";
import { threeByThree } from "./fixture.js";

describe("runBuild's afterCommit seam (post_build hooks plug in here)", () => {
  let bucket: { root: string; cleanup(): void };
  before(async () => {
    bucket = await makeBucket();
    writeWorkspace(bucket.root, threeByThree());
  });
  after(() => bucket.cleanup());

  it("runs after the commit, with the lock still held, and its failure fails the build without undoing it", async () => {
    const ctx = openBucket(bucket.root);
    try {
      let seen: BuildResult | undefined;
      await assert.rejects(
        runBuild(ctx, {
          afterCommit: async (c, result) => {
            seen = result;
            assert.equal(c, ctx);
            // another connection already sees the committed build
            const other = new Database(ctx.paths.db, { readonly: true });
            try {
              assert.equal(other.prepare("SELECT COUNT(*) FROM allocations").pluck().get(), 5);
            } finally {
              other.close();
            }
            throw new Error("post_build hook failed");
          },
        }),
        /post_build hook failed/,
      );
      assert.equal(seen?.summary.allocations.added, 5);
      assert.equal(ctx.kv.get("maand/bucket", "jobs"), "api,cache,db");
    } finally {
      ctx.close();
    }
  });

  it("refuses a read-only context", async () => {
    const ctx = openBucket(bucket.root, { readonly: true });
    try {
      await assert.rejects(runBuild(ctx), /read-only/);
    } finally {
      ctx.close();
    }
  });
});
