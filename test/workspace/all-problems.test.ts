import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { workspaceBucket, assertProblem, assertOnly, largeValidWorkspace } from "./helpers.js";

describe("readWorkspace: every problem at once", () => {
  let b: Awaited<ReturnType<typeof workspaceBucket>>;
  before(async () => (b = await workspaceBucket()));
  after(() => b.cleanup());

  it("reports problems from every file in one error, one line each", () => {
    b.write({
      workers: [{ host: "10.0.0.1", memory: "12 parsecs" }, { host: "10.0.0.1", tags: { a: 1 } }],
      jobs: {
        api: { manifest: { version: "latest", hooks: { migrate: { executed_on: ["boot"] } } } },
        web: { manifest: { restart_policy: "maybe", hooks: { hook_x: { executed_on: ["cli"], demands: { job: "ghost", hook: "hook_y" } } } }, files: { "_hooks/hook_x.js": "1\n" } },
      },
      bucketConf: "a = \n",
      disabled: { jobs: { api: { allocations: "nope" } } },
    });
    mkdirSync(join(b.root, "workspace/jobs/web/logs"));
    writeFileSync(join(b.root, "workspace/jobs/web/vars.toml"), "[x\n");
    const err = b.fail();
    const expected: Array<[string, string]> = [
      ["workspace/workers.json", "$[0].memory"],
      ["workspace/workers.json", "$[1].host"],
      ["workspace/workers.json", "$[1].tags.a"],
      ["workspace/jobs/api/manifest.json", "$.version"],
      ["workspace/jobs/api/manifest.json", "$.hooks.migrate"],
      ["workspace/jobs/api/manifest.json", "$.hooks.migrate.executed_on[0]"],
      ["workspace/jobs/web/manifest.json", "$.restart_policy"],
      ["workspace/jobs/web/manifest.json", "$.hooks.hook_x.demands.job"],
      ["workspace/jobs/web", "logs/"],
      ["workspace/jobs/web/vars.toml", "line 1, column 3"],
      ["workspace/disabled.json", "$.jobs.api.allocations"],
      ["workspace/bucket.conf", "line 1, column 5"],
    ];
    assertOnly(err, expected);
    assert.equal(err.message.split("\n").length, expected.length);
    assertProblem(err, "workspace/workers.json", "$[0].memory", ["memory size"], "12 parsecs");
    assertProblem(err, "workspace/jobs/api/manifest.json", "$.hooks.migrate.executed_on[0]", ["is not a hook event"], "boot");
    assertProblem(err, "workspace/jobs/web/manifest.json", "$.hooks.hook_x.demands.job", ["expected a job in workspace/jobs/"], "ghost");
  });

  it("validates 500 workers x 50 jobs, a 50-long demand chain ordering them", () => {
    // How fast this is measured by bench/workspace.ts, against a floor from the same run.
    b.write(largeValidWorkspace(500, 50));
    const ws = b.read();
    assert.equal(ws.workers.length, 500);
    assert.equal(ws.jobs.length, 50);
    assert.deepEqual(ws.jobs.map((j) => j.deploymentSeq), Array.from({ length: 50 }, (_, j) => j));
  });
});
