import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { rmSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { writeJob } from "../helpers/bucket.js";
import { hookBucket, maand, recorderPy, workers, type HookBucket } from "./fixture.js";

/** Hooks run the built snapshot: a workspace edited since the last build is named before they run. */
describe("maand hooks: stale catalog detection", () => {
  let b: HookBucket;
  const job = { manifest: { version: "1.0.0", selectors: ["w"], hooks: { hook_x: { executed_on: ["cli"] } } }, files: { "_hooks/hook_x.py": recorderPy(), "conf/app.conf": "port = 1\n" } };
  before(async () => {
    b = await hookBucket();
    await b.build({ workers: workers(2), jobs: { api: job } });
  });
  after(() => b.cleanup());

  const file = (rel: string) => join(b.root, "workspace", "jobs", "api", rel);

  it("says nothing while the workspace is what was built, even after a touch that keeps the content", () => {
    const r = maand(b.root, "hooks", "hook_x", "api", "--dry-run");
    assert.equal(r.status, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /changed since the last/);
    const later = new Date(Date.now() + 60_000);
    utimesSync(file("conf/app.conf"), later, later);
    assert.doesNotMatch(maand(b.root, "hooks", "hook_x", "api", "--dry-run").stderr, /changed since the last/);
  });

  it("names changed, added and removed job files, and still runs the built snapshot", () => {
    writeFileSync(file("conf/app.conf"), "port = 2\n");
    writeFileSync(file("conf/new.conf"), "x\n");
    rmSync(file("_hooks/hook_x.py"));
    try {
      const r = maand(b.root, "hooks", "hook_x", "api");
      assert.equal(r.status, 0, r.stderr);
      assert.match(
        r.stderr,
        /^warning: the workspace changed since the last 'maand build' \(changed jobs\/api\/conf\/app\.conf; added jobs\/api\/conf\/new\.conf; removed jobs\/api\/_hooks\/hook_x\.py\): maand runs the built snapshot; run 'maand build' first, or pass --build$/m,
      );
      assert.equal(b.records().length, 2, "the built hook ran");
    } finally {
      writeJob(b.root, "api", job);
      rmSync(file("conf/new.conf"));
    }
  });

  it("a hook registered in the manifest but not built yet gets the hint; --build builds first and runs it", () => {
    writeJob(b.root, "api", {
      manifest: { version: "1.0.0", selectors: ["w"], hooks: { hook_x: { executed_on: ["cli"] }, hook_new: { executed_on: ["cli"] } } },
      files: { ...job.files, "_hooks/hook_new.py": 'print("new hook")\n' },
    });
    const r = maand(b.root, "hooks", "hook_new", "api");
    assert.equal(r.status, 1);
    assert.match(r.stderr, /job api has no hook hook_new[^]*\(the workspace changed since the last 'maand build' \(changed jobs\/api\/manifest\.json; added jobs\/api\/_hooks\/hook_new\.py\)/);
    const built = maand(b.root, "hooks", "hook_new", "api", "--build", "--verbose");
    assert.equal(built.status, 0, built.stderr);
    assert.match(built.stdout, /build committed/);
    assert.match(built.stdout, /\[10\.0\.0\.1 api hook_new\] new hook/);
    assert.doesNotMatch(built.stderr, /changed since the last/);
    assert.equal(maand(b.root, "hooks", "hook_new", "api", "--build", "--dry-run").status, 2);
    // with --json, stdout is the run's JSON alone; the build says its part on stderr
    const json = maand(b.root, "hooks", "hook_new", "api", "--build", "--json");
    assert.equal(json.status, 0, json.stderr);
    assert.equal(JSON.parse(json.stdout).status, "ok");
    assert.match(json.stderr, /build committed/);
  });

  it("deploy (also --dry-run) and job control warn the same way; job control's fix is a build and a deploy", () => {
    assert.equal(maand(b.root, "build").status, 0);
    assert.doesNotMatch(maand(b.root, "deploy", "--dry-run").stderr, /changed since the last/);
    writeFileSync(file("conf/app.conf"), "port = 3\n");
    try {
      const dry = maand(b.root, "deploy", "--dry-run");
      assert.equal(dry.status, 0, dry.stderr);
      assert.match(dry.stderr, /^warning: the workspace changed since the last 'maand build' \(changed jobs\/api\/conf\/app\.conf\): maand runs the built snapshot; run 'maand build' first, or pass --build$/m);
      // Never deployed, so job control refuses; the warning comes first either way.
      const control = maand(b.root, "job", "restart", "api");
      assert.notEqual(control.status, 0);
      assert.match(control.stderr, /^warning: the workspace changed since the last 'maand build' \(changed jobs\/api\/conf\/app\.conf\): job control runs what the last deploy shipped; run 'maand build' and 'maand deploy' to ship it$/m);
    } finally {
      writeJob(b.root, "api", job);
    }
  });
});
