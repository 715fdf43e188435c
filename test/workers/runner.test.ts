import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { CommandInterrupted, WorkerStepFailed } from "../../server/workers/errors.js";
import type { WorkerPool } from "../../server/workers/pool.js";
import { runnerCommand, runTarget } from "../../server/workers/runner.js";
import { syncWorker } from "../../server/workers/sync.js";
import { file, poolFor, rejection } from "./fixture.js";
import { processRunning, waitFor } from "./procs.js";
import { startWorkers, testWorkersUnavailable, type WorkerSet } from "./workers.js";

const skip = testWorkersUnavailable();
const BUCKET = "0b6a4d8e-1111-4000-8000-00000000r001";
const MAKEFILE = [
  "start:",
  "\t@echo \"starting $(JOB) from [$$CURRENT_VERSION] to [$$NEW_VERSION]\"",
  "fail:",
  "\t@echo about to fail; exit 3",
  "slow:",
  "\t@sleep 300 & echo $$! > /opt/worker/slow.pid; wait",
  "noisy:",
  "\t@for i in $$(seq 1 50); do echo line $$i; done",
  "",
].join("\n");

describe("runner.py on real workers", { skip }, () => {
  let set: WorkerSet;
  let pool: WorkerPool;
  let ip: string;
  before(async () => {
    set = await startWorkers(2);
    pool = poolFor(set);
    ip = set.workers[0].ip;
    const job = (name: string) => ({ job: name, files: [file("Makefile", MAKEFILE)] });
    await syncWorker(pool, {
      host: ip,
      bucketId: BUCKET,
      jobs: [job("web"), job("api")],
      layout: { worker: { worker_ip: ip }, updateSeq: 1, jobs: { web: { current_version: "1.0.0", new_version: "1.1.0" }, api: { current_version: null, new_version: "2.0.0" } } },
    });
  });
  after(async () => {
    pool?.close();
    await set?.stop();
  });

  it("runs a target per job with CURRENT_VERSION/NEW_VERSION from jobs.json, overridable by the environment", async () => {
    const r = await runTarget(pool, { host: ip, bucketId: BUCKET, target: "start", jobs: ["web", "api"] });
    assert.equal(r.ok, true);
    assert.deepEqual(r.jobs.map((j) => [j.job, j.exit_code, j.error, j.tail]), [
      ["web", 0, null, ["starting web from [1.0.0] to [1.1.0]"]],
      ["api", 0, null, ["starting api from [] to [2.0.0]"]],
    ]);
    const o = await runTarget(pool, { host: ip, bucketId: BUCKET, target: "start", jobs: ["web"], env: { NEW_VERSION: "9.9.9" } });
    assert.deepEqual(o.jobs[0].tail, ["starting web from [1.0.0] to [9.9.9]"]);
  });

  it("reports a failing target with its exit code and last 20 lines, and fails the run", async () => {
    const r = await runTarget(pool, { host: ip, bucketId: BUCKET, target: "fail", jobs: ["web"] });
    assert.equal(r.ok, false);
    assert.equal(r.jobs[0].exit_code, 2);
    assert.match(r.jobs[0].error ?? "", /make fail exited with 2/);
    assert.equal(r.jobs[0].tail[0], "about to fail");
    const noisy = await runTarget(pool, { host: ip, bucketId: BUCKET, target: "noisy", jobs: ["web"] });
    assert.deepEqual(noisy.jobs[0].tail, Array.from({ length: 20 }, (_, i) => `line ${31 + i}`));
    assert.match(noisy.output, /line 1\n/);
  });

  it("kills a target at its timeout (the target's children too) and says so", async () => {
    const t0 = Date.now();
    const r = await runTarget(pool, { host: ip, bucketId: BUCKET, target: "slow", jobs: ["web"], timeoutSec: 0.5 });
    assert.ok(Date.now() - t0 < 8_000);
    assert.equal(r.ok, false);
    assert.equal(r.jobs[0].timed_out, true);
    assert.match(r.jobs[0].error ?? "", /timed out after 0.5s/);
    const pid = Number(readFileSync(join(set.workers[0].optDir, "slow.pid"), "utf8"));
    await waitFor(() => !processRunning(pid), 8_000, `the target's sleep ${pid} to be killed`);
  });

  it("refuses a target make would take as an option or assignment, before contacting the worker", async () => {
    for (const target of ["-f/etc/passwd", "X=1", ""]) {
      const err = await rejection(runTarget(pool, { host: "127.0.0.0", bucketId: BUCKET, target, jobs: ["web"] }));
      assert.match(err.message, /cannot run a target on 127\.0\.0\.0: target/);
    }
  });

  it("names a missing target and a job that is not on the worker", async () => {
    const r = await runTarget(pool, { host: ip, bucketId: BUCKET, target: "nosuch", jobs: ["web", "ghost"] });
    assert.equal(r.ok, false);
    assert.equal(r.jobs[0].error, "job web's Makefile has no target nosuch");
    assert.match(r.jobs[1].error ?? "", /^job ghost is not on this worker \(no directory \/opt\/worker\/.*\/jobs\/ghost\); deploy it first$/);
  });

  it("works as the hook SDK calls it (`runner.py <bucket_id> <target> --jobs <job>` and `runner.py <target> --jobs <job>`), with human output", async () => {
    const exact = await pool.exec(ip, `python3 -E -S /opt/worker/${BUCKET}/bin/runner.py ${BUCKET} start --jobs web`);
    assert.equal(exact.exitCode, 0, exact.stderr.toString());
    assert.equal(exact.stdout.toString(), "starting web from [1.0.0] to [1.1.0]\nweb start: ok\n");
    const short = await pool.exec(ip, `python3 /opt/worker/${BUCKET}/bin/runner.py fail --jobs web`);
    assert.equal(short.exitCode, 1);
    assert.match(short.stdout.toString(), /web fail: FAILED: make fail exited with 2\n {2}\| about to fail\n/);
    assert.equal(runnerCommand(BUCKET, "start", ["web"]), `python3 -E -S /opt/worker/${BUCKET}/bin/runner.py ${BUCKET} start --jobs web`);
    const option = await pool.exec(ip, `python3 /opt/worker/${BUCKET}/bin/runner.py ${BUCKET} X=1 --jobs web`);
    assert.equal(option.exitCode, 2);
    assert.match(option.stderr.toString(), /target 'X=1': expected/);
    const wrong = await pool.exec(ip, `python3 /opt/worker/${BUCKET}/bin/runner.py other-bucket start --jobs web`);
    assert.equal(wrong.exitCode, 2);
    assert.match(wrong.stderr.toString(), /belongs to bucket/);
  });

  it("Ctrl-C during a target stops it on the worker", async () => {
    const pidFile = join(set.workers[0].optDir, "slow.pid");
    const before = existsSync(pidFile) ? readFileSync(pidFile, "utf8") : "";
    const ac = new AbortController();
    const running = rejection(runTarget(pool, { host: ip, bucketId: BUCKET, target: "slow", jobs: ["web"], signal: ac.signal }));
    await waitFor(() => existsSync(pidFile) && readFileSync(pidFile, "utf8") !== before && readFileSync(pidFile, "utf8").endsWith("\n"), 10_000, "the target to start");
    const pid = Number(readFileSync(pidFile, "utf8"));
    ac.abort();
    assert.ok((await running) instanceof CommandInterrupted);
    await waitFor(() => !processRunning(pid), 8_000, `the target's sleep ${pid} to be killed`);
  });

  it("says runner.py is missing on a worker that was never synced", async () => {
    const err = await rejection(runTarget(pool, { host: set.workers[1].ip, bucketId: BUCKET, target: "start", jobs: ["web"] }));
    assert.ok(err instanceof WorkerStepFailed, String(err));
    assert.match(err.message, /is not installed: sync the worker's layout first/);
  });
});
