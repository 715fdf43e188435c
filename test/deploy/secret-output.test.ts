import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { testWorkersUnavailable } from "../workers/workers.js";
import { recorderPy } from "../hooks/fixture.js";
import { deployBucket, type DeployBucket } from "./fixture.js";
import type { WorkspaceFixture } from "../helpers/bucket.js";
import { filesUnder } from "../helpers/files.js";

const skip = testWorkersUnavailable();
const PASSWORD = "pw-7Hq2-rendered-into-a-file";

/** One job: pre_deploy stores the secret, a template renders it into app.conf, which the Makefile and an ssh check print. */
const workspace = (b: DeployBucket, version: string, start: string): WorkspaceFixture => ({
  workers: b.ips.map((host) => ({ host, labels: ["worker"] })),
  jobs: {
    app: {
      manifest: {
        version,
        selectors: ["worker"],
        hooks: { hook_secret: { executed_on: ["pre_deploy"] } },
        health_check: { checks: [{ type: "ssh", command: "cat /opt/worker/*/jobs/app/app.conf; false" }], timeout_seconds: 5, wait: { attempts: 1, interval_seconds: 1 } },
      },
      files: {
        "_hooks/hook_secret.py": recorderPy(`from maand import put_job_secret\nput_job_secret("db_password", ${JSON.stringify(PASSWORD)}).raise_for_status()\n`),
        "app.conf.tpl": 'password={{ getSecret "db_password" }}\n',
        Makefile: `start:\n${start}`,
      },
    },
  },
});

/**
 * A template renders a secret (written by pre_deploy) into a file on the worker, and the job's
 * Makefile and ssh health check print that file: make output (live with --verbose, tails in
 * the failure report and events.jsonl) and check errors must show it masked, as hook output is.
 */
describe("secrets printed by make targets and ssh checks are masked", { skip }, () => {
  let b: DeployBucket;
  before(async () => {
    b = await deployBucket(1);
    b.build(workspace(b, "1.0.0", "\t@cat app.conf\n\t@exit 1\n"));
  });
  after(async () => {
    await b?.cleanup();
  });

  it("deploy --verbose: the target's output, the failure report and events.jsonl mask the rendered secret; so do the gate and maand health_check", () => {
    const r = b.maand("deploy", "--verbose");
    assert.equal(r.status, 3, `${r.stderr}\n${r.stdout}`);
    assert.match(r.stdout, new RegExp(`\\[${b.ips[0]!.replace(/\./g, "\\.")} app start\\] password=\\*\\*\\*`), "the live line, masked");
    assert.match(r.stderr, /\| password=\*\*\*/, "the failure report's tail, masked");
    assert.ok(readFileSync(b.onWorker(0, "jobs/app/app.conf"), "utf8").includes(PASSWORD), "the worker got the real value");

    b.build(workspace(b, "1.0.1", "\t@cat app.conf\n"));
    const gated = b.maand("deploy");
    assert.equal(gated.status, 3, `${gated.stderr}\n${gated.stdout}`);
    assert.match(gated.stderr, /\(job app, health ssh:/);
    assert.match(gated.stderr, /password=\*\*\*/, "the ssh check's error quotes the masked line");
    const hc = b.maand("health_check");
    assert.equal(hc.status, 3);
    assert.match(hc.stderr + hc.stdout, /password=\*\*\*/);

    const everything = [r.stdout, r.stderr, gated.stdout, gated.stderr, hc.stdout, hc.stderr, ...filesUnder(join(b.root, "logs")).map((f) => readFileSync(f, "utf8"))].join("\n");
    assert.ok(!everything.includes(PASSWORD), "the secret is in no output and no log");
  });
});
