import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { workspaceBucket, assertProblem, assertOnly, HOOK_PY } from "./helpers.js";

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

  it("validates 500 workers x 50 jobs well under a second", () => {
    const workers = Array.from({ length: 500 }, (_, i) => ({
      host: `10.0.${Math.floor(i / 250)}.${(i % 250) + 1}`,
      labels: [`l${i % 50}`, "shared"],
      memory: "16 gb",
      cpu: "3000 mhz",
      tags: { rack: `r${i % 10}` },
    }));
    const jobs: Record<string, { manifest: Record<string, unknown>; files: Record<string, string>; vars: string }> = {};
    for (let j = 0; j < 50; j++) {
      const name = `job${String(j).padStart(2, "0")}`;
      const demands = j > 0 ? { job: `job${String(j - 1).padStart(2, "0")}`, hook: "hook_ready", config: { min_version: "1.0.0" } } : undefined;
      jobs[name] = {
        manifest: {
          version: "1.2.0",
          selectors: [`l${j}`],
          hooks: { hook_ready: { executed_on: ["post_build", "cli"], ...(demands ? { demands } : {}) } },
          health_check: { checks: [{ type: "tcp", port: 8000 + j }] },
          certs: { server: { subject: { common_name: name } } },
        },
        files: { "_hooks/hook_ready.py": HOOK_PY, Makefile: "start:\n\ttrue\n", "conf/app.conf.tpl": "x={{ .WorkerIP }}\n" },
        vars: `name = "${name}"\n`,
      };
    }
    b.write({ workers, jobs, bucketJobsConf: Object.keys(jobs).map((n) => `[${n}]\nx = 1\n`).join("") });
    const start = performance.now();
    const ws = b.read();
    const ms = performance.now() - start;
    assert.equal(ws.workers.length, 500);
    assert.equal(ws.jobs.length, 50);
    assert.equal(ws.jobs[49].deploymentSeq, 49);
    assert.ok(ms < 1000, `took ${ms.toFixed(0)} ms`);
    console.log(`# 500 workers x 50 jobs read and validated in ${ms.toFixed(0)} ms`);
  });
});
