import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import Database from "better-sqlite3";
import { makeBucket, writeWorkspace } from "../helpers/bucket.js";
import { acquireBucketLock } from "../../server/store/lock.js";
import { collect, largeWorkspace, maand, maandAsync, REPO, threeByThree, mustBuild } from "./fixture.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("bucket lock: build vs other processes", () => {
  let bucket: { root: string; cleanup(): void };
  let lockFile: string;
  before(async () => {
    bucket = await makeBucket();
    lockFile = join(bucket.root, "data", "maand.lock");
    writeWorkspace(bucket.root, threeByThree());
    mustBuild(bucket.root);
  });
  after(() => bucket.cleanup());

  it("`maand build` fails at once, exit 1, naming the pid that holds the lock", () => {
    const lock = acquireBucketLock(lockFile);
    try {
      const t0 = Date.now();
      const r = maand(bucket.root, "build");
      assert.equal(r.status, 1);
      assert.match(r.stderr, new RegExp(`locked by another maand process \\(pid ${process.pid}\\)`));
      assert.ok(Date.now() - t0 < 5000, "no waiting for the lock");
    } finally {
      lock.release();
    }
  });

  it("cat works while another process holds the lock and has a write transaction open", () => {
    const lock = acquireBucketLock(lockFile);
    const writer = new Database(join(bucket.root, "data", "maand.db"));
    try {
      writer.exec("BEGIN IMMEDIATE");
      writer.prepare("DELETE FROM workers").run(); // uncommitted: cat must still see the workers
      const r = maand(bucket.root, "cat", "workers", "--json");
      assert.equal(r.status, 0, r.stderr);
      assert.equal((JSON.parse(r.stdout) as unknown[]).length, 3);
      const kv = maand(bucket.root, "cat", "kv", "get", "maand/bucket", "jobs");
      assert.equal(kv.stdout, "api,cache,db\n");
    } finally {
      writer.exec("ROLLBACK");
      writer.close();
      lock.release();
    }
  });

  it("a lock left by a kill -9'd holder is taken over", async () => {
    const lockModule = pathToFileURL(join(REPO, "dist", "server", "store", "lock.js")).href;
    const holder = spawn(
      process.execPath,
      ["--input-type=module", "-e", `import { acquireBucketLock } from ${JSON.stringify(lockModule)}; acquireBucketLock(${JSON.stringify(lockFile)}); console.log("locked"); setInterval(() => {}, 1000);`],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    await new Promise<void>((res) => holder.stdout!.once("data", () => res()));
    const blocked = maand(bucket.root, "build");
    assert.equal(blocked.status, 1);
    assert.match(blocked.stderr, new RegExp(`pid ${holder.pid}\\b`));
    const exited = new Promise((res) => holder.once("exit", res));
    holder.kill("SIGKILL");
    await exited;
    const r = maand(bucket.root, "build");
    assert.equal(r.status, 0, r.stderr);
  });
});

describe("two concurrent builds", () => {
  let bucket: { root: string; cleanup(): void };
  before(async () => {
    bucket = await makeBucket();
    // 400 leaf certificates to issue keep the first build holding the lock for a good while
    const ws = largeWorkspace(200, 2);
    for (const job of Object.values(ws.jobs!)) (job.manifest as Record<string, unknown>).certs = { tls: { subject: { common_name: "x" } } };
    writeWorkspace(bucket.root, ws);
  });
  after(() => bucket.cleanup());

  it("the second fails cleanly naming the first one's pid; the first completes", async () => {
    const pidFile = join(bucket.root, "data", "maand.lock.pid");
    const first = maandAsync(bucket.root, "build");
    const firstDone = collect(first);
    // wait until the first build holds the lock, then start the second
    for (let i = 0; i < 500 && !(existsSync(pidFile) && readFileSync(pidFile, "utf8").trim() === String(first.pid)); i++) await sleep(5);
    const second = await collect(maandAsync(bucket.root, "build"));
    const a = await firstDone;
    assert.equal(a.status, 0, a.stderr);
    assert.equal(second.status, 1, `second build: ${second.stdout} ${second.stderr}`);
    assert.match(second.stderr, new RegExp(`locked by another maand process \\(pid ${first.pid}\\)`));
    assert.equal(second.stdout, "");
    mustBuild(bucket.root);
  });
});
