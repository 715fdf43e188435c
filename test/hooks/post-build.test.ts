import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { writeWorkspace, type WorkspaceFixture } from "../helpers/bucket.js";
import { hookBucket, maand, recorderPy, workers, type HookBucket } from "./fixture.js";

/** Each post_build hook records itself and writes vars/job/<job> pass_<n> (n from $BUCKET_ROOT/pass). */
const WRITER = recorderPy(`from maand import put_job_variable
n = open(os.path.join(os.environ["BUCKET_ROOT"], "pass")).read().strip()
put_job_variable("pass_" + n, os.environ["ALLOCATION_IP"]).raise_for_status()
if os.path.exists(os.path.join(os.environ["BUCKET_ROOT"], "fail." + os.environ["JOB"])):
    print("post_build failing on purpose")
    sys.exit(5)
`);

function workspace(apiVersion: string): WorkspaceFixture {
  const hook = (demands?: { job: string; hook: string }) => ({ executed_on: ["post_build"], ...(demands ? { demands } : {}) });
  return {
    workers: workers(2),
    jobs: {
      // "api" sorts first by name but demands db: deployment_seq 1 puts it after db and cache
      api: { manifest: { version: apiVersion, selectors: ["w"], max_concurrent_upgrades: 2, hooks: { hook_b: hook({ job: "db", hook: "hook_a" }) } }, files: { "_hooks/hook_b.py": WRITER } },
      db: { manifest: { version: "2.0.0", selectors: ["w"], max_concurrent_upgrades: 2, hooks: { hook_a: hook() } }, files: { "_hooks/hook_a.py": WRITER } },
      cache: { manifest: { version: "1.0.0", selectors: ["w"], max_concurrent_upgrades: 2, hooks: { hook_c: hook() } }, files: { "_hooks/hook_c.py": WRITER } },
    },
  };
}

describe("post_build hooks via `maand build`", () => {
  let b: HookBucket;
  before(async () => {
    b = await hookBucket();
  });
  after(() => b.cleanup());

  const stored = (job: string, key: string) => b.with((ctx) => ctx.kv.get(`vars/job/${job}`, key));

  it("run after the build commit in deployment_seq order, their KV persisted", async () => {
    writeWorkspace(b.root, workspace("1.0.0"));
    writeFileSync(join(b.root, "pass"), "1");
    b.clearRecords();
    const r = maand(b.root, "build");
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /build committed/i);
    const jobs = b.records().map((x) => x.JOB);
    assert.equal(jobs.length, 6);
    assert.deepEqual(jobs.slice(4), ["api", "api"], `upstream jobs first: ${jobs}`);
    assert.deepEqual(new Set(jobs.slice(0, 4)), new Set(["cache", "db"]));
    // sequential steps: all of cache (name order within seq 0) before all of db
    assert.deepEqual(jobs.slice(0, 4), ["cache", "cache", "db", "db"]);
    assert.ok(b.records().every((x) => x.EVENT === "post_build" && x.DEPLOY_PHASE === "post_build"));
    for (const job of ["api", "db", "cache"]) assert.ok(await stored(job, "pass_1"));
  });

  it("a failing post_build hook fails the build; the build stays committed, the hook pass persists nothing", async () => {
    writeWorkspace(b.root, workspace("1.1.0"));
    writeFileSync(join(b.root, "pass"), "2");
    writeFileSync(join(b.root, "fail.api"), "");
    b.clearRecords();
    try {
      const r = maand(b.root, "build");
      assert.equal(r.status, 3, r.stdout + r.stderr);
      assert.match(r.stderr, /the build is committed; its post_build hooks did not finish and their KV writes were not \(\d+ KV writes? of \d+ allocations? discarded: the run failed\)/);
      assert.match(r.stderr, /10\.0\.0\.1 \(job api, hook_b, post_build, batch 1\/1\): exit code 5/);
      assert.match(r.stderr, /\| post_build failing on purpose/);
      const version = await b.with((ctx) => (ctx.db.prepare("SELECT version FROM jobs WHERE name = 'api'").get() as { version: string }).version);
      assert.equal(version, "1.1.0", "the build itself committed");
      assert.equal(await stored("db", "pass_2"), undefined, "db's hook ran but its write was rolled back with the pass");
      assert.equal(await stored("api", "pass_2"), undefined);
      assert.ok(b.records().some((x) => x.JOB === "db"), "db's hook did run");
    } finally {
      rmSync(join(b.root, "fail.api"));
    }
  });
});
