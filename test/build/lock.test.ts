import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import Database from "better-sqlite3";
import { makeBucket, writeWorkspace } from "../helpers/bucket.js";
import { acquireBucketLock } from "../../server/store/lock.js";
import { processRunning, waitFor } from "../helpers/wait.js";
import { collect, maand, maandAsync, REPO, threeByThree, mustBuild } from "./fixture.js";

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
      // This process holds the lock and is blocked in spawnSync until the build exits: the
      // build can only fail while the lock is held (a build waiting for it would never end).
      const r = maand(bucket.root, "build");
      assert.equal(r.status, 1);
      assert.match(r.stderr, new RegExp(`locked by another maand process \\(pid ${process.pid}\\)`));
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

/**
 * A post_build hook runs while its build still holds the lock: this one says so (a marker file)
 * and, while the FIFO `release` exists, blocks reading it until the test writes to it, so the
 * first build holds the lock for exactly as long as the test needs, however loaded the machine.
 */
const HOLD = `import os
root = os.environ["BUCKET_ROOT"]
open(os.path.join(root, "holding"), "w").close()
if os.path.exists(os.path.join(root, "release")):
    with open(os.path.join(root, "release")) as fifo:
        fifo.read()
`;

describe("two concurrent builds", () => {
  let bucket: { root: string; cleanup(): void };
  before(async () => {
    bucket = await makeBucket();
    writeWorkspace(bucket.root, {
      workers: [{ host: "10.0.0.1", labels: ["w"] }],
      jobs: { holder: { manifest: { version: "1.0.0", selectors: ["w"], hooks: { hook_hold: { executed_on: ["post_build"] } } }, files: { "_hooks/hook_hold.py": HOLD } } },
    });
    const fifo = spawnSync("mkfifo", [join(bucket.root, "release")]);
    assert.equal(fifo.status, 0, String(fifo.stderr));
  });
  after(() => bucket.cleanup());

  it("the second fails at once naming the first one's pid, while the first holds the lock; the first completes", async () => {
    const first = maandAsync(bucket.root, "build");
    const firstDone = collect(first);
    let firstEnded = false;
    void firstDone.then(() => (firstEnded = true));
    try {
      await waitFor(() => firstEnded || existsSync(join(bucket.root, "holding")), 60_000, "the first build's post_build hook to start");
      assert.equal(firstEnded, false, "the first build is still running its hook");
      const second = maand(bucket.root, "build");
      assert.equal(second.status, 1, `second build: ${second.stdout} ${second.stderr}`);
      assert.match(second.stderr, new RegExp(`locked by another maand process \\(pid ${first.pid}\\)`));
      assert.equal(second.stdout, "");
      // The second gave up while the first held the lock: the first is still blocked reading the
      // FIFO, which nobody has written yet (a second build waiting for the lock would never end).
      assert.ok(processRunning(first.pid!), "the first build is still running");
      writeFileSync(join(bucket.root, "release"), "go");
      const a = await firstDone;
      assert.equal(a.status, 0, a.stderr);
      assert.match(a.stdout, /build committed/i);
    } finally {
      // A failed assertion must not leave the first build blocked in its hook: Ctrl-C stops it.
      if (!firstEnded) first.kill("SIGINT");
      await firstDone;
    }
    rmSync(join(bucket.root, "release"));
    mustBuild(bucket.root);
  });
});
