import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import Database from "better-sqlite3";

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
