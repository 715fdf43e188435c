import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { makeBucket, writeWorkspace } from "../helpers/bucket.js";
import { openBucket } from "../../server/bucket/context.js";
import { applyBuild } from "../../server/build/apply.js";
import { planBuild } from "../../server/build/plan.js";
import { readBuildState } from "../../server/build/snapshot.js";
import { readWorkspace } from "../../server/workspace/read.js";
import { collect, dumpCatalog, largeWorkspace, maand, maandAsync, threeByThree, mustBuild } from "./fixture.js";

describe("build is all-or-nothing", () => {
  let bucket: { root: string; cleanup(): void };
  before(async () => {
    bucket = await makeBucket();
    writeWorkspace(bucket.root, threeByThree());
    mustBuild(bucket.root);
  });
  after(() => bucket.cleanup());
  const db = () => join(bucket.root, "data", "maand.db");

  it("an invalid workspace fails `maand build` and leaves every table byte-for-byte as it was", () => {
    const before = dumpCatalog(db());
    const ws = threeByThree();
    ws.workers!.push({ host: "10.0.0.9", labels: ["api"] }); // a valid change ...
    ws.jobs!.db!.manifest = { version: "2.0.0", selectors: "db", max_concurrent_upgrades: "x" }; // ... and a bad manifest
    writeWorkspace(bucket.root, ws);
    const r = maand(bucket.root, "build");
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /workspace\/jobs\/db\/manifest\.json: \$\.selectors/);
    assert.match(r.stderr, /\$\.max_concurrent_upgrades/);
    assert.equal(r.stdout, "");
    assert.deepEqual(dumpCatalog(db()), before);
  });

  it("an error thrown inside the apply transaction rolls back every write", () => {
    writeWorkspace(bucket.root, { ...threeByThree(), bucketConf: 'env = "staging"\n' });
    const before = dumpCatalog(db());
    const ctx = openBucket(bucket.root);
    try {
      const plan = planBuild({
        workspace: readWorkspace(ctx.paths, ctx.conf),
        state: readBuildState(ctx.db, (row) => ctx.kv.decode(row)),
        now: ctx.clock.now(),
        caCertPem: "changed CA",
        certs: new Map(
          ctx.kv.allLatest().filter((r) => r.key.endsWith(".crt") && r.namespace.startsWith("maand/job/")).flatMap((r) => {
            const [, , job, , ip] = r.namespace.split("/");
            const name = r.key.slice(6, -4);
            return [[`${job}|${ip}|${name}`, { crt: "x", key: "y" }]];
          }),
        ),
      });
      assert.ok(plan.kv.length > 3);
      // a row that violates NOT NULL, written last: everything before it must vanish too
      plan.kv.push({ namespace: "zzz", key: "k", value: null as unknown as string, ttl: 0, deleted: false, version: 1 });
      assert.throws(() => applyBuild(ctx.db, ctx.kv, plan), /NOT NULL/);
    } finally {
      ctx.close();
    }
    assert.deepEqual(dumpCatalog(db()), before);
  });
});

describe("kill -9 during `maand build`", () => {
  // catalog rows that legitimately differ between two runs of the same build
  const IGNORE = { kv: ["created_at"], allocations: ["removed_at"] };
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), "maand-kill-"))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("leaves an intact catalog equal to the before or the after state", async (t) => {
    const b = await makeBucket();
    const base = join(dir, "base");
    try {
      writeWorkspace(b.root, largeWorkspace(120, 20));
      const first = maand(b.root, "build");
      assert.equal(first.status, 0, first.stderr);
      const ws = largeWorkspace(110, 20); // 10 workers leave
      for (const job of Object.values(ws.jobs!)) (job.manifest as { version: string }).version = "9.9.9";
      ws.bucketConf = 'env = "after"\n';
      writeWorkspace(b.root, ws);
      cpSync(b.root, base, { recursive: true });
    } finally {
      b.cleanup();
    }
    const dbOf = (root: string) => join(root, "data", "maand.db");
    const beforeDump = dumpCatalog(dbOf(base), { ignore: IGNORE });

    const ref = join(dir, "ref");
    cpSync(base, ref, { recursive: true });
    const t0 = Date.now();
    const full = maand(ref, "build");
    const fullMs = Date.now() - t0;
    assert.equal(full.status, 0, full.stderr);
    const afterDump = dumpCatalog(dbOf(ref), { ignore: IGNORE });
    assert.notDeepEqual(afterDump, beforeDump);

    const seen = { before: 0, after: 0 };
    for (let i = 0; i < 5; i++) {
      const work = join(dir, `run${i}`);
      cpSync(base, work, { recursive: true });
      const child = maandAsync(work, "build");
      const done = collect(child);
      // spread the kill over the whole run: start-up, planning and the transaction
      const delay = Math.floor(fullMs * (0.3 + 0.7 * Math.random()));
      await new Promise((r) => setTimeout(r, delay));
      child.kill("SIGKILL");
      await done;
      const check = new Database(dbOf(work));
      try {
        assert.equal(check.pragma("integrity_check", { simple: true }), "ok");
      } finally {
        check.close();
      }
      const state = dumpCatalog(dbOf(work), { ignore: IGNORE });
      const isBefore = JSON.stringify(state) === JSON.stringify(beforeDump);
      const isAfter = JSON.stringify(state) === JSON.stringify(afterDump);
      assert.ok(isBefore || isAfter, `run ${i} (killed after ${delay} ms): catalog is neither the before nor the after state`);
      seen[isBefore ? "before" : "after"]++;
      // the bucket stays usable: the next build completes to the after state
      if (i === 0) {
        mustBuild(work);
        assert.deepEqual(dumpCatalog(dbOf(work), { ignore: IGNORE }), afterDump);
      }
      rmSync(work, { recursive: true, force: true });
    }
    assert.equal(seen.before + seen.after, 5);
    t.diagnostic(`full build ${fullMs} ms; killed runs ended in the before state ${seen.before}x, the after state ${seen.after}x`);
  });
});
