import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, truncateSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { WORKER_LOG_ROTATE_BYTES } from "../../server/logs/gc.js";
import { hookBucket, maand, workers, type HookBucket } from "../hooks/fixture.js";

/** `maand gc` on logs/: old runs go, big worker logs rotate, and it says what it did. */

describe("maand gc: run logs and worker logs (CLI, real processes)", () => {
  let b: HookBucket;
  let recent = "";
  const logs = () => join(b.root, "logs");
  const OLD = ["20200101T000000Z-aaaaaa", "20200102T000000Z-bbbbbb"];

  before(async () => {
    b = await hookBucket();
    await b.build({
      workers: workers(3),
      jobs: { api: { manifest: { selectors: ["w"], max_concurrent_upgrades: 3, hooks: { hook_a: { executed_on: ["cli"] } } }, files: { "_hooks/hook_a.py": 'print("hi")\n' } } },
    });
    const r = maand(b.root, "hooks", "hook_a", "api");
    assert.equal(r.status, 0, r.stderr);
    recent = /^run (\S+): cli/m.exec(r.stdout)![1]!;
    for (const id of OLD) {
      mkdirSync(join(logs(), "runs", id));
      writeFileSync(join(logs(), "runs", id, "api.hook_a.10.0.0.1.log"), "x".repeat(1000));
    }
    mkdirSync(join(logs(), "runs", "operator-notes")); // not a run id: never touched
    // 10.0.0.1: over the limit (sparse: the size is what counts); 10.0.0.2: an old rotated log;
    // 10.0.0.3: a recent rotated log that stays.
    truncateSync(join(logs(), "10.0.0.1.log"), WORKER_LOG_ROTATE_BYTES + 1);
    writeFileSync(join(logs(), "10.0.0.1.log.1"), "previous rotation\n");
    writeFileSync(join(logs(), "10.0.0.2.log.1"), "old\n");
    utimesSync(join(logs(), "10.0.0.2.log.1"), new Date("2020-01-01"), new Date("2020-01-01"));
    writeFileSync(join(logs(), "10.0.0.3.log.1"), "recent\n");
  });
  after(() => b.cleanup());

  it("removes runs older than --retain-days, rotates worker logs over 32 MiB, and lists every path", () => {
    const r = maand(b.root, "gc", "--retain-days", "7");
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^  run logs removed            2\n    logs\/runs\/20200101T000000Z-aaaaaa\n    logs\/runs\/20200102T000000Z-bbbbbb$/m);
    assert.match(r.stdout, /^  worker logs rotated         1 \(over 32\.0 MiB: <ip>\.log -> <ip>\.log\.1\)\n    logs\/10\.0\.0\.1\.log \(32\.0 MiB\)$/m);
    assert.match(r.stdout, /^  rotated logs removed        1\n    logs\/10\.0\.0\.2\.log\.1$/m);
    assert.match(r.stdout, /^  log space freed             0\.0 MiB$/m);

    assert.deepEqual(readdirSync(join(logs(), "runs")).sort(), [recent, "operator-notes"].sort());
    assert.equal(existsSync(join(logs(), "10.0.0.1.log")), false);
    assert.equal(statSync(join(logs(), "10.0.0.1.log.1")).size, WORKER_LOG_ROTATE_BYTES + 1, "the big log replaced the previous .1");
    assert.equal(existsSync(join(logs(), "10.0.0.2.log.1")), false);
    assert.equal(readFileSync(join(logs(), "10.0.0.3.log.1"), "utf8"), "recent\n");
    assert.ok(existsSync(join(logs(), "10.0.0.2.log")) && existsSync(join(logs(), "10.0.0.3.log")), "small current logs stay");
  });

  it("the next run starts a fresh, private worker log; a second gc has nothing to do", () => {
    const r = maand(b.root, "hooks", "hook_a", "api", "--allocations", "10.0.0.1");
    assert.equal(r.status, 0, r.stderr);
    const fresh = join(logs(), "10.0.0.1.log");
    assert.match(readFileSync(fresh, "utf8"), /stream=stdout hi$/m);
    assert.equal(statSync(fresh).mode & 0o777, 0o600);
    const again = maand(b.root, "gc");
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stdout, /run logs removed {12}0\n {2}worker logs rotated {9}0 .*\n {2}rotated logs removed {8}0\n/);
  });

  it("--retain-days 0 removes every run, the one just made too", () => {
    const r = maand(b.root, "gc", "--retain-days", "0");
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(readdirSync(join(logs(), "runs")), ["operator-notes"]);
  });
});
