import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { processRunning, waitFor } from "../workers/procs.js";
import { testWorkersUnavailable } from "../workers/workers.js";
import { recorderPy } from "../hooks/fixture.js";
import { collect, deployBucket, maandAsync, recordingJob, type DeployBucket } from "./fixture.js";

const skip = testWorkersUnavailable();
const SECRET = "s3cret-value-from-pre-deploy";

const READ = (job: string) => `
from maand import get_kv_value, put_job_secret, put_job_variable
def note(**kv):
    with open(os.path.join(os.environ["BUCKET_ROOT"], "record.jsonl"), "a") as f:
        f.write(json.dumps(dict(kind="read", job="${job}", event=os.environ["EVENT"], **kv)) + "\\n")
`;

/** alpha: pre_deploy stores a secret, post_deploy reads it back. */
const ALPHA = recorderPy(`${READ("alpha")}
if os.environ["EVENT"] == "pre_deploy":
    put_job_secret("token", "${SECRET}").raise_for_status()
    put_job_variable("pre", "1").raise_for_status()
else:
    note(value=get_kv_value("secrets/job/alpha", "token"))
    put_job_variable("post", "1").raise_for_status()
`);

/** beta (wave 1, demands alpha): pre_deploy reads alpha's secret, writes a var, and blocks once (the test kills maand then). */
const BETA = recorderPy(`${READ("beta")}
import time
note(value=get_kv_value("secrets/job/alpha", "token"))
put_job_variable("pre", "1").raise_for_status()
marker = os.path.join(os.environ["BUCKET_ROOT"], "beta.block")
if not os.path.exists(marker):
    with open(marker + ".tmp", "w") as f:
        f.write(str(os.getpid()))
    os.rename(marker + ".tmp", marker)
    time.sleep(300)
`);

describe("KV by context and kill -9: checkpoints after pre_deploy and after each job", { skip }, () => {
  let b: DeployBucket;
  const kv = (db: Database.Database, ns: string, key: string) =>
    db.prepare("SELECT value, deleted, encrypted FROM kv WHERE namespace = ? AND key = ? ORDER BY version DESC LIMIT 1").get(ns, key) as { value: string; deleted: number; encrypted: number } | undefined;
  const promoted = (db: Database.Database, job: string) =>
    (db.prepare("SELECT h.current_version FROM allocations a JOIN hash h ON h.alloc_id = a.alloc_id WHERE a.job = ? ORDER BY a.worker_ip").all(job) as { current_version: string }[]).map((r) => r.current_version);

  before(async () => {
    b = await deployBucket(2);
    b.build({
      workers: b.ips.map((host) => ({ host, labels: ["worker"] })),
      jobs: {
        alpha: recordingJob(b.recordFile, { manifest: { hooks: { hook_py: { executed_on: ["pre_deploy", "post_deploy"] } } }, files: { "_hooks/hook_py.py": ALPHA } }),
        beta: recordingJob(b.recordFile, {
          manifest: { hooks: { hook_py: { executed_on: ["pre_deploy"], demands: { job: "alpha", hook: "hook_py" } } } },
          files: { "_hooks/hook_py.py": BETA },
          makeExtra: { restart: "\t@sleep 300 & echo $$! > /opt/worker/restart.pid; wait\n" },
        }),
      },
    });
  });
  after(async () => {
    await b?.cleanup();
  });

  it("kill -9 during beta's pre_deploy: maand.db is consistent, alpha (promoted, KV committed) stays, beta's uncommitted writes are lost; the rerun completes", async () => {
    const child = maandAsync(b.root, "deploy");
    const done = collect(child);
    const marker = join(b.root, "beta.block");
    await waitFor(() => existsSync(marker), 60_000, "beta's pre_deploy hook to block");
    child.kill("SIGKILL");
    await done;
    // The hook has its own process group, which maand's death does not reach: the test ends it.
    const hookPid = Number(readFileSync(marker, "utf8"));
    try {
      process.kill(-hookPid, "SIGKILL");
    } catch {
      // already gone
    }
    await waitFor(() => !processRunning(hookPid), 10_000, "the orphaned hook to exit");

    const db = new Database(join(b.root, "data", "maand.db"));
    try {
      assert.equal(db.pragma("integrity_check", { simple: true }), "ok");
      assert.deepEqual(promoted(db, "alpha"), ["1.0.0", "1.0.0"], "alpha was promoted before the kill");
      assert.deepEqual(promoted(db, "beta"), ["0.0.0", "0.0.0"]);
      assert.equal(kv(db, "vars/job/alpha", "pre")?.value, "1");
      assert.equal(kv(db, "vars/job/alpha", "post")?.value, "1");
      const secret = kv(db, "secrets/job/alpha", "token")!;
      assert.equal(secret.encrypted, 1);
      assert.notEqual(secret.value, SECRET, "only ciphertext in maand.db");
      assert.equal(kv(db, "vars/job/beta", "pre"), undefined, "beta's uncommitted pre_deploy write is lost");
    } finally {
      db.close();
    }
    const reads = b.records().filter((r) => r.kind === "read");
    assert.ok(reads.some((r) => r.job === "alpha" && r.event === "post_deploy" && r.value === SECRET), "post_deploy read the secret pre_deploy wrote");
    assert.ok(reads.some((r) => r.job === "beta" && r.value === SECRET), "a later job (demanding alpha) read it too");

    b.clearRecords();
    const again = b.deploy();
    assert.equal(again.status, 0, again.stderr);
    assert.deepEqual(again.result!.jobs.map((j) => [j.job, j.status]), [["alpha", "skipped"], ["beta", "ok"]]);
    b.db((db) => {
      assert.deepEqual(promoted(db, "beta"), ["1.0.0", "1.0.0"]);
      assert.equal(kv(db, "vars/job/beta", "pre")?.value, "1");
    });
    assert.deepEqual(b.records().filter((r) => r.kind === "target").map((r) => `${r.job} ${r.target}`), ["beta start", "beta start"]);
  });

  it("Ctrl-C during a remote make target stops it on the worker, promotes nothing and exits 130", async () => {
    const pidFile = join(b.set.workers[0]!.optDir, "restart.pid");
    const r0 = b.deploy("--jobs", "beta", "--force", "--dry-run");
    assert.equal(r0.status, 0);
    const before = b.db((db) => db.prepare("SELECT MAX(updated_at) AS t FROM hash").get() as { t: number }).t;
    const child = maandAsync(b.root, "deploy", "--jobs", "beta", "--force");
    const done = collect(child);
    await waitFor(() => existsSync(pidFile), 60_000, "beta's restart to run on worker 1");
    const remote = Number(readFileSync(pidFile, "utf8"));
    assert.ok(processRunning(remote));
    child.kill("SIGINT");
    const r = await done;
    assert.equal(r.status, 130, r.stderr);
    assert.match(r.stderr, /interrupted/);
    await waitFor(() => !processRunning(remote), 15_000, "the remote target's process to be killed");
    b.db((db) => assert.equal((db.prepare("SELECT MAX(updated_at) AS t FROM hash").get() as { t: number }).t, before, "nothing promoted"));
  });

  it("Ctrl-C while a pre_deploy hook runs: the hook's process group is stopped, its KV writes are dropped, exit 130", async () => {
    const marker = join(b.root, "beta.block");
    rmSync(marker, { force: true }); // beta's hook blocks again
    const versions = () => b.db((db) => (db.prepare("SELECT COUNT(*) AS n FROM kv WHERE namespace = 'vars/job/beta' AND key = 'pre'").get() as { n: number }).n);
    const before = versions();
    const child = maandAsync(b.root, "deploy", "--jobs", "beta", "--force");
    const done = collect(child);
    await waitFor(() => existsSync(marker), 60_000, "beta's pre_deploy hook to block");
    const hookPid = Number(readFileSync(marker, "utf8"));
    child.kill("SIGINT");
    const r = await done;
    assert.equal(r.status, 130, r.stderr);
    assert.match(r.stderr, /interrupted/);
    await waitFor(() => !processRunning(hookPid), 15_000, "the hook to be stopped");
    assert.equal(versions(), before, "the hook's put_job_variable was never committed");
  });
});
