import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import Database from "better-sqlite3";
import { testWorkersUnavailable } from "../workers/workers.js";

// The README's main command must keep working: run the whole demo into a temp bucket.
test("the demo runs end to end and leaves the KV the hooks wrote", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "maand-demo-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const bucket = join(dir, "bucket");
  const r = spawnSync(process.execPath, [resolve("dist/demo/run.js"), bucket], { encoding: "utf8", timeout: 120_000 });
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /downstream api\/hook_migrate wants \{'min_version': '2\.0\.0'\}/);
  assert.match(r.stdout, /ROLLOUT_ORDER_SOURCE=kv|\(kv\)/);
  assert.doesNotMatch(r.stdout + r.stderr, /Traceback|Error:/);
  // The dry run prints the plan and runs nothing.
  assert.match(r.stdout, /\$ maand hooks hook_migrate api --dry-run\nplan: cli hooks, 1 step\(s\), 3 invocation\(s\); nothing is run\n/);
  assert.match(r.stdout, /batch width 2 \(max_concurrent_upgrades\), 2 batch\(es\)/);
  // The failing hook's report: the worker, its exit code and last lines; the demo goes on.
  assert.match(r.stdout, /maand: hook run \S+ failed on 1 allocation:\n {2}127\.0\.0\.13 \(job web, hook_check, cli, batch \d\/2\): exit code 3\n(?: {4}\| .*\n)*? {4}\| disk almost full on 127\.0\.0\.13/);
  assert.match(r.stdout, /\(exit status 3, as intended\)/);
  assert.match(r.stdout, /job=web hook=hook_check event=cli worker=127\.0\.0\.13 stream=maand failed \(exit code 3\)/);
  if (testWorkersUnavailable()) assert.match(r.stdout, /deploy skipped: .*\n# Run the demo as root with openssh-server/);
  else {
    // As root with sshd, the demo deploys to its three workers, then redeploys with nothing to do.
    assert.match(r.stdout, /deploy \S+: ok in .*\n[\s\S]*deploy \S+: ok in/);
    assert.match(r.stdout, /job database: ok, promoted 1\n[\s\S]*job web: ok, promoted 2\n[\s\S]*job api: ok, promoted 3/);
    assert.match(r.stdout, /maand job restart web \(run \S+\): ok/);
    // web's template rendered on its worker, its batches gated by real probes of the service make start launched.
    assert.match(r.stdout, /rendered from jobs\/web\/serve\.conf\.tpl:\n# web 0\.9\.0 on 127\.0\.0\.12 \(allocation 0, labels api,web,worker\)\nbind=127\.0\.0\.12\nport=18080\nenvironment=demo\n/);
    assert.match(r.stdout, /ok +127\.0\.0\.13 web health http:port\/healthz \(new 1\/1\)/);
    assert.match(r.stdout, /\$ maand health_check --wait\n[\s\S]*?health check: ok \(4\/4 checks passed\)/);
  }

  const db = new Database(join(bucket, "data", "maand.db"), { readonly: true });
  try {
    const keys = (ns: string) =>
      (db.prepare("SELECT DISTINCT key FROM kv WHERE namespace = ? AND deleted = 0 ORDER BY key").all(ns) as { key: string }[]).map((x) => x.key);
    assert.deepEqual(keys("vars/job/api").filter((k) => k.startsWith("migrated_")), ["migrated_127.0.0.11", "migrated_127.0.0.12", "migrated_127.0.0.13"]);
    assert.ok(keys("vars/job/api").includes("inventory"), "post_build hook wrote its KV");
    assert.deepEqual(keys("vars/job/web").filter((k) => k.startsWith("checked_")), [], "the failed run's writes were rolled back");
    const secret = db.prepare("SELECT value, encrypted FROM kv WHERE namespace = 'secrets/job/database' AND key = 'admin_password'").get() as { value: string; encrypted: number };
    assert.equal(secret.encrypted, 1);
    assert.ok(!r.stdout.includes(secret.value));
  } finally {
    db.close();
  }
});
