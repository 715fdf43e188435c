import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { cpSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { makeBucket, writeWorkspace } from "../helpers/bucket.js";
import { openBucket } from "../../server/bucket/context.js";
import { applyBuild } from "../../server/build/apply.js";
import { planBuild } from "../../server/build/plan.js";
import { readBuildState } from "../../server/build/snapshot.js";
import { readWorkspace } from "../../server/workspace/read.js";
import { processState, waitFor } from "../helpers/wait.js";
import { readWal } from "./wal.js";
import { collect, dumpCatalog, largeWorkspace, maand, maandAsync, threeByThree, mustBuild, storedCerts } from "./fixture.js";

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
        // every stored certificate replaced: a plan that writes many KV rows
        certs: new Map([...storedCerts(ctx).keys()].map((k) => [k, { crt: "x", key: "y" }])),
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
  const IGNORE = { kv: ["created_at"], allocations: ["removed_at"], bucket: ["build_id"] };
  const dbOf = (root: string) => join(root, "data", "maand.db");
  const walOf = (root: string) => `${dbOf(root)}-wal`;
  let dir: string;
  let base: string;
  let beforeDump: Record<string, unknown[]>;
  let afterDump: Record<string, unknown[]>;
  /** The largest the WAL grew during an uninterrupted build of `base`. */
  let peakWal = 0;
  let run = 0;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "maand-kill-"));
    base = join(dir, "base");
    const b = await makeBucket();
    try {
      writeWorkspace(b.root, largeWorkspace(120, 20));
      mustBuild(b.root);
      const ws = largeWorkspace(110, 20); // 10 workers leave
      for (const job of Object.values(ws.jobs!)) (job.manifest as { version: string }).version = "9.9.9";
      ws.bucketConf = 'env = "after"\n';
      writeWorkspace(b.root, ws);
      cpSync(b.root, base, { recursive: true });
    } finally {
      b.cleanup();
    }
    beforeDump = dumpCatalog(dbOf(base), { ignore: IGNORE });
    const ref = copyOfBase();
    const child = maandAsync(ref, "build");
    const done = collect(child);
    let exited = false;
    void done.then(() => (exited = true));
    while (!exited) {
      peakWal = Math.max(peakWal, fileSize(walOf(ref)));
      await new Promise((r) => setTimeout(r, 1));
    }
    const full = await done;
    assert.equal(full.status, 0, full.stderr);
    afterDump = dumpCatalog(dbOf(ref), { ignore: IGNORE });
    assert.notDeepEqual(afterDump, beforeDump);
    assert.ok(peakWal > 1024 * 1024, `the build's transaction went through the WAL (peak ${peakWal} bytes)`);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  function copyOfBase(): string {
    const work = join(dir, `run${run++}`);
    cpSync(base, work, { recursive: true });
    return work;
  }

  /** The catalog after a kill: intact, and exactly the state `expected` names. */
  function assertState(work: string, expected: "before" | "after", what: string): void {
    const check = new Database(dbOf(work));
    try {
      assert.equal(check.pragma("integrity_check", { simple: true }), "ok", what);
    } finally {
      check.close();
    }
    assert.ok(JSON.stringify(dumpCatalog(dbOf(work), { ignore: IGNORE })) === JSON.stringify(expected === "before" ? beforeDump : afterDump), `${what}: the catalog is not the ${expected} state`);
  }

  /**
   * Runs the build until the WAL holds more than `walBytes`, freezes it (SIGSTOP), reads the WAL
   * as recovery will, then kills it: frames without a commit frame mean the kill landed inside
   * the build's write transaction, which must then leave no trace.
   */
  async function killWhenWalExceeds(walBytes: number): Promise<{ work: string; inside: boolean }> {
    const work = copyOfBase();
    const child = maandAsync(work, "build");
    const done = collect(child);
    let exited = false;
    void done.then(() => (exited = true));
    while (!exited && fileSize(walOf(work)) <= walBytes) await new Promise((r) => setTimeout(r, 1));
    child.kill("SIGSTOP");
    await waitFor(() => exited || processState(child.pid!) === "T", 10_000, "the build to stop");
    const wal = readWal(walOf(work));
    child.kill("SIGKILL");
    await done;
    return { work, inside: wal.validFrames > 0 && wal.committedFrames === 0 };
  }

  it("killed before it opens the catalog: the before state", async () => {
    const work = copyOfBase();
    const child = maandAsync(work, "build");
    const done = collect(child);
    await new Promise((r) => child.once("spawn", r));
    child.kill("SIGKILL");
    await done;
    assertState(work, "before", "killed at spawn");
  });

  it("killed inside its write transaction: the before state, and the next build completes", async () => {
    // The first frame in the WAL: the transaction has begun writing. Under heavy load the build
    // may commit before SIGSTOP lands; that run then must be the after state, and we try again.
    let landed: string | undefined;
    for (let attempt = 0; attempt < 5 && !landed; attempt++) {
      const { work, inside } = await killWhenWalExceeds(32);
      assertState(work, inside ? "before" : "after", `attempt ${attempt} (${inside ? "inside" : "after"} the transaction)`);
      if (inside) landed = work;
      else rmSync(work, { recursive: true, force: true });
    }
    assert.ok(landed, "no kill landed inside the build's write transaction in 5 attempts");
    mustBuild(landed);
    assert.deepEqual(dumpCatalog(dbOf(landed), { ignore: IGNORE }), afterDump);
  });

  for (const fraction of [1 / 3, 2 / 3]) {
    it(`killed with ${Math.round(fraction * 100)}% of the transaction's WAL written: exactly the before or the after state, as the WAL says`, async () => {
      const { work, inside } = await killWhenWalExceeds(Math.floor(peakWal * fraction));
      assertState(work, inside ? "before" : "after", inside ? "inside the transaction" : "after the commit");
    });
  }

  it("killed after it reported the build: the after state", async () => {
    const work = copyOfBase();
    const child = maandAsync(work, "build");
    const done = collect(child);
    await new Promise((r) => child.stdout!.once("data", r));
    child.kill("SIGKILL");
    await done;
    assertState(work, "after", "killed after the summary");
  });
});

function fileSize(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}
