import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { assertWorkersReady, checkWorkers } from "../../server/workers/check.js";
import { WorkerCheckFailed } from "../../server/workers/errors.js";
import { runTarget } from "../../server/workers/runner.js";
import { syncWorker } from "../../server/workers/sync.js";
import { file, poolFor, rejection } from "./fixture.js";
import { startWorkers, testWorkersUnavailable, type WorkerSet } from "./workers.js";

const skip = testWorkersUnavailable();
const noSudo = skip ?? (existsSync("/usr/bin/sudo") ? undefined : process.env.CI ? undefined : "sudo is not installed (apt-get install sudo)");

const MISSING: Record<number, string[]> = { 1: ["make"], 2: ["python3", "timeout"], 4: ["sudo"] };

describe("worker check", { skip }, () => {
  let set: WorkerSet;
  before(async () => {
    set = await startWorkers(5, { worker: (i) => ({ missingTools: MISSING[i] ?? [] }) });
    await set.kill(3);
  });
  after(async () => {
    await set?.stop();
  });

  it("lists every worker and everything it lacks, in one round-trip per worker, all in parallel within the bound", async () => {
    const pool = poolFor(set, { maxWorkers: 2, connectTimeoutMs: 3_000 });
    const before = set.workers.map((_, i) => set.acceptedLogins(i));
    try {
      const checks = await checkWorkers(pool, set.workers.map((w) => w.ip));
      assert.deepEqual(checks.map((c) => [c.host, c.ok]), set.workers.map((w, i) => [w.ip, i === 0 || i === 4]));
      assert.deepEqual(checks[1].problems, ["make not found on PATH"]);
      assert.deepEqual(checks[2].problems, ["python3 not found on PATH", "timeout not found on PATH"]);
      assert.equal(checks[3].problems.length, 1);
      assert.match(checks[3].problems[0], /^unreachable: connection refused/);
      assert.ok(pool.stats().peakConnections <= 2);
    } finally {
      pool.close();
    }
    assert.deepEqual(set.workers.map((_, i) => set.acceptedLogins(i) - before[i]), [1, 1, 1, 0, 1], "one connection per reachable worker");
  });

  it("assertWorkersReady throws one error naming each failing worker and what it misses", async () => {
    const pool = poolFor(set, { connectTimeoutMs: 3_000 });
    try {
      const err = await rejection(assertWorkersReady(pool, set.workers.map((w) => w.ip)));
      assert.ok(err instanceof WorkerCheckFailed, String(err));
      assert.deepEqual(err.problems.map((p) => p.host), [set.workers[1].ip, set.workers[2].ip, set.workers[3].ip]);
      for (const line of [`${set.workers[1].ip}: make not found on PATH`, `${set.workers[2].ip}: python3 not found on PATH; timeout not found on PATH`])
        assert.ok(err.message.includes(line), `${line} in\n${err.message}`);
      await assertWorkersReady(pool, [set.workers[0].ip]);
    } finally {
      pool.close();
    }
  });

  it("with use_sudo, also requires passwordless sudo", { skip: noSudo }, async () => {
    const pool = poolFor(set, { useSudo: true });
    try {
      const checks = await checkWorkers(pool, [set.workers[0].ip, set.workers[4].ip]);
      assert.deepEqual(checks.map((c) => c.problems), [[], ["sudo not found on PATH"]]);
      // And commands then really run through sudo.
      const r = await pool.exec(set.workers[0].ip, 'echo "$(id -u) $SUDO_USER"');
      assert.equal(r.stdout.toString(), "0 root\n");
      const plainPool = poolFor(set);
      const plain = await plainPool.exec(set.workers[0].ip, 'echo "$(id -u) ${SUDO_USER:-none}"');
      plainPool.close();
      assert.equal(plain.stdout.toString(), "0 none\n");
      // Sync, layout and runner all go through sudo: the Makefile sees SUDO_USER.
      const bucketId = "sudo-bucket";
      const job = { job: "web", files: [file("Makefile", 'whoami:\n\t@echo "ran as $$(id -u) via $$SUDO_USER"\n')] };
      const synced = await syncWorker(pool, { host: set.workers[0].ip, bucketId, jobs: [job], layout: { worker: {}, updateSeq: 1, jobs: { web: { current_version: null, new_version: "1" } } } });
      assert.deepEqual(synced.jobs[0].sent, ["Makefile"]);
      const ran = await runTarget(pool, { host: set.workers[0].ip, bucketId, target: "whoami", jobs: ["web"] });
      assert.deepEqual(ran.jobs[0].tail, ["ran as 0 via root"]);
    } finally {
      pool.close();
    }
  });
});
