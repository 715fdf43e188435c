import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { workspaceBucket, assertProblem } from "./helpers.js";

const DISABLED = "workspace/disabled.json";
const WORKERS = [{ host: "10.0.0.1" }, { host: "10.0.0.2" }, { host: "Node3.example.com" }];
const JOBS = { api: {}, database: {} };

describe("readWorkspace: disabled.json", () => {
  let b: Awaited<ReturnType<typeof workspaceBucket>>;
  before(async () => (b = await workspaceBucket()));
  after(() => b.cleanup());

  it("reads whole jobs, allocations and workers, matching hosts case-insensitively", () => {
    b.write({ workers: WORKERS, jobs: JOBS, disabled: { jobs: { api: {}, database: { allocations: ["10.0.0.2", "node3.EXAMPLE.com"] } }, workers: ["10.0.0.1"] } });
    assert.deepEqual(b.read().disabled, { jobs: { api: "all", database: ["10.0.0.2", "Node3.example.com"] }, workers: ["10.0.0.1"] });
  });

  it("rejects unknown fields and non-host values; stale job and worker names are warnings", () => {
    b.write({
      workers: WORKERS,
      jobs: JOBS,
      disabled: { jobs: { apii: {}, api: { allocations: ["10.0.0.9"], workers: [] }, database: { allocations: [] } }, workers: ["10.0.0.3", 5], job: {} },
    });
    const err = b.fail();
    assertProblem(err, DISABLED, "$.jobs.api.workers", ['unknown field "workers"', "expected one of allocations"], []);
    assertProblem(err, DISABLED, "$.jobs.database.allocations", ["non-empty array of worker hosts"], []);
    assertProblem(err, DISABLED, "$.workers[1]", ["worker host"], 5);
    assertProblem(err, DISABLED, "$.job", ['unknown field "job"', 'did you mean "jobs"'], {});
    assert.equal(err.problems.length, 4, err.message);
  });

  it("an entry naming a job or worker no longer in the workspace is a warning (the drain flow), ignored", () => {
    // disable, deploy, then remove the worker and the job: the stale entries must not block the build
    b.write({ workers: WORKERS, jobs: JOBS, disabled: { jobs: { apii: {}, database: { allocations: ["10.0.0.9", "10.0.0.2"] } }, workers: ["10.0.0.3"] } });
    const ws = b.read();
    assert.deepEqual(ws.disabled, { jobs: { database: ["10.0.0.2"] }, workers: [] });
    const warned = ws.warnings.map((w) => [w.file, w.path, w.value]);
    assert.deepEqual(warned, [
      [DISABLED, "$.jobs.apii", "apii"],
      [DISABLED, "$.jobs.database.allocations[0]", "10.0.0.9"],
      [DISABLED, "$.workers[0]", "10.0.0.3"],
    ]);
    assert.match(ws.warnings[0]!.expected, /is not a job in workspace\/jobs\/ \(ignored\) \(did you mean "api"\?\)/);
    assert.match(ws.warnings[2]!.expected, /is not a worker in workspace\/workers\.json \(ignored\)/);
  });

  it("reports invalid JSON and a non-object document", () => {
    b.write({ workers: WORKERS, jobs: JOBS });
    writeFileSync(join(b.root, "workspace/disabled.json"), '{"jobs": {"api": {}');
    assertProblem(b.fail(), DISABLED, "line 1, column 20", ["invalid JSON"]);
    writeFileSync(join(b.root, "workspace/disabled.json"), '["api"]');
    assertProblem(b.fail(), DISABLED, "$", ["expected an object"], ["api"]);
  });
});

describe("readWorkspace: TOML vars", () => {
  let b: Awaited<ReturnType<typeof workspaceBucket>>;
  before(async () => (b = await workspaceBucket()));
  after(() => b.cleanup());

  it("reports syntax errors with line and column in every TOML file", () => {
    b.write({
      jobs: { api: { vars: 'a = 1\nb = "unterminated\n' } },
      bucketConf: "ok = true\n\nbroken = = 2\n",
      bucketJobsConf: "[api\nx = 1\n",
    });
    const err = b.fail();
    assertProblem(err, "workspace/bucket.conf", "line 3, column 10", ["invalid TOML", "expected valid TOML"]);
    assertProblem(err, "workspace/bucket.jobs.conf", "line 1, column 5", ["invalid TOML"]);
    const p = err.problems.find((x) => x.file === "workspace/jobs/api/vars.toml");
    assert.ok(p && /^line 2, column \d+$/.test(p.path), err.message);
    assert.equal(err.problems.length, 3, err.message);
  });

  it("requires bucket.jobs.conf entries to be tables of existing jobs", () => {
    b.write({ jobs: { api: {} }, bucketJobsConf: 'password = "s3cret"\n[apii]\nx = 1\n[api]\ny = "z"\n' });
    const err = b.fail();
    const loose = assertProblem(err, "workspace/bucket.jobs.conf", "password", ["top-level value", "only [<job>] tables"]);
    assert.equal(loose.value, undefined);
    assert.ok(!err.message.includes("s3cret"), "vars values are not echoed");
    assertProblem(err, "workspace/bucket.jobs.conf", "[apii]", ["names no job", 'did you mean "api"']);
    assert.equal(err.problems.length, 2, err.message);
  });

  it("checks the selected bucket.jobs.<sel>.conf, not bucket.jobs.conf", () => {
    b.write({ jobs: { api: {} }, bucketJobsConf: "[ghost]\n" });
    writeFileSync(join(b.root, "workspace/bucket.jobs.prod.conf"), "[api]\nreplicas = 2\n");
    assert.deepEqual(b.read({ job_config_selector: "prod" }).bucketJobVars, { api: { replicas: "2" } });
    writeFileSync(join(b.root, "workspace/bucket.jobs.prod.conf"), "[ghost]\n");
    assertProblem(b.fail({ job_config_selector: "prod" }), "workspace/bucket.jobs.prod.conf", "[ghost]", ["names no job"]);
  });

  it("converts values: dates ISO, floats, nested arrays of tables as JSON", () => {
    b.write({ bucketConf: 't = 1979-05-27T07:32:00Z\nlt = 07:32:00\nf = 2.5\nnested = [{a = 1}, {a = 2}]\n[tbl.inner]\nk = "v"\n' });
    assert.deepEqual(b.read().bucketVars, {
      t: "1979-05-27T07:32:00.000Z",
      lt: "07:32:00.000",
      f: "2.5",
      nested: '[{"a":1},{"a":2}]',
      tbl: '{"inner":{"k":"v"}}',
    });
  });
});
