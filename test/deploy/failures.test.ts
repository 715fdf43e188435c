import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { acquireBucketLock } from "../../server/store/lock.js";
import { waitFor } from "../workers/procs.js";
import { testWorkersUnavailable } from "../workers/workers.js";
import { collect, deployBucket, maandAsync, recordingJob, type DeployBucket } from "./fixture.js";
import { jsonError } from "../helpers/cli.js";
import type { DeployPlan } from "../../server/deploy/plan-types.js";
import type { DeployResult } from "../../server/deploy/result.js";

const skip = testWorkersUnavailable();
const worker = (b: DeployBucket, i: number) => b.ips[i]!;

describe("deploy failures: a worker dying mid-deploy, a failed wave", { skip }, () => {
  let b: DeployBucket;
  before(async () => {
    b = await deployBucket(3);
  });
  after(async () => {
    await b?.cleanup();
  });

  it("a worker's sshd killed mid-deploy fails that job naming the worker; the wave's other jobs finish; a rerun completes only what is missing", async () => {
    // Job a's start on worker 2 blocks (once) until the test kills that worker; job b is not on worker 2.
    const block = `\t@if [ "$$(echo $$SSH_CONNECTION | cut -d' ' -f3)" = "${worker(b, 1)}" ] && [ ! -f /opt/worker/blocked ]; then touch /opt/worker/blocked; sleep 120; fi\n`;
    b.build({
      workers: b.ips.map((host, i) => ({ host, labels: i === 1 ? ["worker"] : ["worker", "b"] })),
      jobs: { a: recordingJob(b.recordFile, { makeExtra: { start: block } }), b: recordingJob(b.recordFile, { manifest: { selectors: ["b"] } }) },
    });
    b.clearRecords();
    const child = maandAsync(b.root, "deploy", "--json");
    const done = collect(child);
    await waitFor(() => existsSync(join(b.set.workers[1]!.optDir, "blocked")), 30_000, "job a's start to block on worker 2");
    await b.set.kill(1);
    const r = await done;
    assert.equal(r.status, 4, `a worker unreachable: exit 4\n${r.stderr}`);
    const err = jsonError(r.stderr);
    assert.equal(err.code, "DEPLOY_FAILED");
    assert.match(err.message, new RegExp(`${b.ips[1]!.replace(/\./g, "\\.")} \\(job a, target start`));
    assert.match(err.message, /unreachable/);
    const { result } = JSON.parse(r.stdout) as { result: DeployResult };
    assert.deepEqual(result.jobs.map((j) => [j.job, j.status]), [["a", "failed"], ["b", "ok"]]);
    assert.deepEqual(result.jobs[0]!.promoted, [], "nothing of a was promoted");

    await b.set.start(1);
    b.clearRecords();
    const again = b.deploy();
    assert.equal(again.status, 0, again.stderr);
    const a = again.plan!.waves[0]!.jobs.find((j) => j.job === "a")!;
    assert.deepEqual(a.allocations.map((x) => [x.action, x.reason]), [["sync", "applied"], ["start", "new"], ["sync", "applied"]]);
    assert.deepEqual(b.records().filter((x) => x.kind === "target").map((x) => [x.job, x.target, x.ip]), [["a", "start", b.ips[1]]], "only the missing start ran");
    assert.deepEqual(again.result!.jobs.map((j) => [j.job, j.status]), [["a", "ok"], ["b", "skipped"]]);
  });

  it("a failed wave 0 stops the deploy before wave 1: the report names worker, job, step, exit code and the last lines", () => {
    b.build({
      workers: b.ips.map((host) => ({ host, labels: ["worker"] })),
      jobs: {
        db: recordingJob(b.recordFile, {
          manifest: { hooks: { hook_schema: { executed_on: ["cli"] }, hook_kv: { executed_on: ["pre_deploy", "post_deploy"] } } },
          files: {
            "_hooks/hook_schema.py": "print('schema')\n",
            "_hooks/hook_kv.py": "import os\nfrom maand import put_job_variable\nput_job_variable(os.environ['EVENT'], '1').raise_for_status()\n",
          },
          makeExtra: { start: `\t@if [ "$$(echo $$SSH_CONNECTION | cut -d' ' -f3)" = "${b.ips[2]}" ]; then echo about to fail; echo disk full >&2; exit 3; fi\n` },
        }),
        api: recordingJob(b.recordFile, {
          manifest: { hooks: { hook_migrate: { executed_on: ["cli"], demands: { job: "db", hook: "hook_schema" } } } },
          files: { "_hooks/hook_migrate.py": "print('migrate')\n" },
        }),
      },
    });
    b.clearRecords();
    const r = b.deploy();
    assert.equal(r.status, 3, r.stderr);
    assert.deepEqual(r.plan!.waves.map((w) => w.jobs.map((j) => j.job)), [["a", "b", "db"], ["api"]]);
    assert.deepEqual(r.result!.jobs.map((j) => [j.job, j.status]).filter(([j]) => j === "db" || j === "api"), [["db", "failed"], ["api", "not_run"]]);
    const error = jsonError<{ run_id: string; failed: Array<{ worker: string; job: string; step: string; exit_code: number }> }>(r.stderr);
    assert.equal(error.code, "DEPLOY_FAILED");
    assert.deepEqual(error.detail!.failed.map((f) => [f.worker, f.job, f.step, f.exit_code]), [[b.ips[2], "db", "target", 2]]);
    assert.equal(error.detail!.run_id, r.result!.run_id);
    const message = error.message;
    assert.match(message, new RegExp(`${b.ips[2]!.replace(/\./g, "\\.")} \\(job db, target start, new, exit code 2\\): make start exited with 2`), "make's own exit code; the recipe's 3 is in the tail");
    assert.match(message, /\| about to fail\n.*\| disk full\n.*Error 3/);
    assert.match(message, /not started \(a wave before them failed\): api/);
    assert.deepEqual(b.records().filter((x) => x.job === "api"), [], "no target of wave 1 ran");
    for (let i = 0; i < 3; i++) assert.ok(!existsSync(b.onWorker(i, "jobs/api")), "wave 1 sent nothing");
    // db's pre_deploy checkpoint was committed before its lifecycle failed; post_deploy never ran.
    const kv = (key: string) => b.db((db) => db.prepare("SELECT value FROM kv WHERE namespace = 'vars/job/db' AND key = ?").get(key) as { value: string } | undefined);
    assert.equal(kv("pre_deploy")?.value, "1");
    assert.equal(kv("post_deploy"), undefined);
  });
});

describe("deploy refusals: --sync-only, a changed host key, --dry-run with every worker down", { skip }, () => {
  let b: DeployBucket;
  let ws: (workers: number, conf: string) => Parameters<DeployBucket["build"]>[0];
  before(async () => {
    b = await deployBucket(3);
    ws = (workers, conf) => ({ workers: b.ips.slice(0, workers).map((host) => ({ host, labels: ["worker"] })), jobs: { api: recordingJob(b.recordFile, { files: { "app.conf": conf } }) } });
    b.build(ws(2, "v1\n"));
    assert.equal(b.deploy().status, 0);
  });
  after(async () => {
    await b?.cleanup();
  });

  it("--sync-only refuses an allocation that needs a start and changes nothing; without one it syncs and promotes without any target", () => {
    b.build(ws(3, "v2\n"));
    b.clearRecords();
    const r = b.deploy("--sync-only");
    assert.equal(r.status, 1);
    assert.match(r.stderr, new RegExp(`needs a start:\\\\n  ${b.ips[2]!.replace(/\./g, "\\.")} \\(job api, new\\)`));
    assert.equal(readFileSync(b.onWorker(0, "jobs/api/app.conf"), "utf8"), "v1\n", "nothing was synced");
    b.build(ws(2, "v2\n"));
    const s = b.deploy("--sync-only");
    assert.equal(s.status, 0, s.stderr);
    assert.deepEqual(s.plan!.waves[0]!.jobs[0]!.allocations.map((a) => [a.action, a.reason]), [["sync", "content_changed"], ["sync", "content_changed"], ["skip", "removed"]]);
    assert.deepEqual(b.records(), [], "no target ran");
    assert.equal(readFileSync(b.onWorker(0, "jobs/api/app.conf"), "utf8"), "v2\n");
    assert.deepEqual(s.result!.jobs[0]!.promoted, [b.ips[0], b.ips[1]]);
  });

  it("a changed host key is refused before anything changes anywhere, naming the worker and both fingerprints (exit 4)", async () => {
    const old = b.set.workers[0]!.hostFingerprint;
    await b.set.replaceHostKey(0);
    b.build(ws(2, "v3\n"));
    b.clearRecords();
    const r = b.deploy();
    assert.equal(r.status, 4, r.stderr);
    assert.match(r.stderr, new RegExp(`${b.ips[0]!.replace(/\./g, "\\.")}: unreachable: host key changed: .*known_hosts has ${old.replace(/[+/]/g, "\\$&")} but the worker presented ${b.set.workers[0]!.hostFingerprint.replace(/[+/]/g, "\\$&")}`));
    assert.match(r.stderr, /nothing was changed/);
    assert.equal(readFileSync(b.onWorker(1, "jobs/api/app.conf"), "utf8"), "v2\n", "the healthy worker was not touched either");
    assert.deepEqual(b.records(), []);
  });

  it("--dry-run prints the plan with every sshd stopped and the bucket locked by another process, and writes nothing", async () => {
    for (let i = 0; i < 3; i++) await b.set.kill(i);
    const lock = acquireBucketLock(join(b.root, "data", "maand.lock"));
    try {
      const seq = () => b.db((db) => (db.prepare("SELECT update_seq FROM bucket").get() as { update_seq: number }).update_seq);
      const before = seq();
      const table = b.maand("deploy", "--dry-run");
      assert.equal(table.status, 0, table.stderr);
      assert.match(table.stdout, new RegExp(`api +${b.ips[0]!.replace(/\./g, "\\.")} +restart +content changed`));
      const json = b.maand("deploy", "--dry-run", "--json");
      assert.equal(json.status, 0, json.stderr);
      const { plan } = JSON.parse(json.stdout) as { plan: DeployPlan };
      assert.deepEqual(plan.workers, [b.ips[0], b.ips[1]]);
      assert.equal(seq(), before, "update_seq untouched");
    } finally {
      lock.release();
    }
  });
});
