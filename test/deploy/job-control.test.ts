import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { testWorkersUnavailable } from "../workers/workers.js";
import { deployBucket, recordingJob, recordingMakefile, type DeployBucket } from "./fixture.js";
import type { DeployPlan } from "../../server/deploy/plan-types.js";

const skip = testWorkersUnavailable();

describe("maand job start|stop|restart|reload|run|status on real workers", { skip }, () => {
  let b: DeployBucket;
  const n = (ip: string) => b.ips.indexOf(ip) + 1;
  /** Targets that ran, per batch of consecutive lines: "stop 1,2 | stop 3" (order within a batch sorted). */
  const targets = (job = "api") => b.records().filter((r) => r.kind === "target" && r.job === job).map((r) => `${r.target} ${n(r.ip!)}`);
  const running = () => (JSON.parse(b.maand("cat", "deployments", "--jobs", "api", "--json").stdout) as Array<{ running: number }>).map((r) => r.running);
  const ok = (r: { status: number | null; stderr: string; stdout: string }) => assert.equal(r.status, 0, `${r.stderr}\n${r.stdout}`);

  before(async () => {
    b = await deployBucket(3);
    b.build({
      workers: b.ips.map((host) => ({ host, labels: ["worker"] })),
      jobs: {
        api: recordingJob(b.recordFile, { manifest: { max_concurrent_upgrades: 2 }, makeExtra: { status: "\t@echo api is up at $$CURRENT_VERSION\n" } }),
        ctl: recordingJob(b.recordFile, { py: ["job_control"] }),
        bare: { manifest: { version: "1.0.0", selectors: ["worker"] }, files: { Makefile: recordingMakefile(b.recordFile, ["start", "stop"]) } },
      },
    });
  });
  after(async () => {
    await b?.cleanup();
  });

  it("refuses a job that was never deployed, naming the fix", () => {
    const r = b.maand("job", "start", "api");
    assert.equal(r.status, 1);
    assert.match(r.stderr, /job api was never deployed.*run 'maand deploy --jobs api' first/);
    ok(b.deploy());
  });

  it("stop, start --allocations, restart, reload: active allocations in rollout batches of max_concurrent_upgrades; running recorded", () => {
    b.clearRecords();
    const stop = b.maand("job", "stop", "api");
    ok(stop);
    const stops = targets();
    // The run's events.jsonl: one line per allocation, batches of max_concurrent_upgrades.
    const runId = /\(run (\S+)\): ok/.exec(stop.stdout)![1]!;
    const events = readFileSync(join(b.root, "logs", "runs", runId, "events.jsonl"), "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(events.map((e) => [e.command, e.step, e.name, e.status, e.batch_index, e.batch_count]).sort(), [
      ["job_control", "target", "stop", "ok", 0, 2],
      ["job_control", "target", "stop", "ok", 0, 2],
      ["job_control", "target", "stop", "ok", 1, 2],
    ]);
    assert.deepEqual([...stops.slice(0, 2)].sort().concat(stops.slice(2)), ["stop 1", "stop 2", "stop 3"]);
    assert.deepEqual(running(), [0, 0, 0]);
    // A deploy now starts them again: they are active but not running.
    const plan = (JSON.parse(b.maand("deploy", "--dry-run", "--json").stdout) as { plan: DeployPlan }).plan;
    assert.deepEqual(plan.waves[0]!.jobs.find((j) => j.job === "api")!.allocations.map((a) => [a.action, a.reason]), Array(3).fill(["start", "stopped"]));

    b.clearRecords();
    ok(b.maand("job", "start", "api", "--allocations", b.ips[1]!));
    assert.deepEqual(targets(), ["start 2"]);
    assert.deepEqual(running(), [0, 1, 0]);
    for (const verb of ["restart", "reload"]) {
      b.clearRecords();
      const r = b.maand("job", verb, "api");
      ok(r);
      assert.deepEqual(targets().sort(), [`${verb} 1`, `${verb} 2`, `${verb} 3`]);
      assert.match(r.stdout, new RegExp(`maand job ${verb} api \\(run \\S+\\): ok`));
    }
    assert.deepEqual(running(), [1, 1, 1]);
  });

  it("run --target T runs any Makefile target; a missing one fails the batch (exit 3) naming the worker, later batches do not run", () => {
    b.clearRecords();
    ok(b.maand("job", "run", "api", "--target", "status"));
    assert.deepEqual(targets().sort(), ["status 1", "status 2", "status 3"]);
    const r = b.maand("job", "run", "api", "--target", "nope");
    assert.equal(r.status, 3);
    assert.match(r.stderr, new RegExp(`maand job run api --target nope failed on 2 allocations.*\\n  ${b.ips[0]!.replace(/\./g, "\\.")} \\(target nope, exit code 2\\): job api's Makefile has no target nope`));
    assert.match(r.stdout, /skipped/, "the second batch was not started");
    const bad = b.maand("job", "stop", "api", "--allocations", "10.9.9.9");
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /--allocations 10\.9\.9\.9: not an active allocation of job api/);
  });

  it("status runs the status target on every allocation at once and shows it beside the deployed version and state", () => {
    const r = b.maand("job", "status", "api");
    ok(r);
    assert.match(r.stdout, new RegExp(`${b.ips[2]!.replace(/\./g, "\\.")} +1\\.0\\.0 +yes +ok +ok +api is up at 1\\.0\\.0`));
    const j = JSON.parse(b.maand("job", "status", "api", "--json").stdout) as { plan: { batches: unknown[] }; allocations: Array<{ status: string; output: string; running: boolean }> };
    assert.equal(j.plan.batches.length, 1, "one batch: status changes nothing");
    assert.deepEqual(j.allocations.map((a) => [a.status, a.output, a.running]), Array(3).fill(["ok", "api is up at 1.0.0", true]));
  });

  it("status of a job whose Makefile has no status target says so instead of a bare failure", () => {
    const r = b.maand("job", "status", "bare", "--json");
    assert.equal(r.status, 3, r.stderr);
    const j = JSON.parse(r.stdout) as { allocations: Array<{ status: string; output: string }> };
    assert.deepEqual(j.allocations.map((a) => [a.status, a.output]), Array(3).fill(["no target", "the deployed Makefile has no status target"]));
  });

  it("a job with a job_control hook runs the hook with TARGET set instead of the Makefile", () => {
    b.clearRecords();
    ok(b.maand("job", "restart", "ctl", "--allocations", `${b.ips[0]},${b.ips[2]}`));
    const calls = b.records().filter((r) => r.EVENT === "job_control");
    assert.deepEqual(calls.map((c) => [c.TARGET, n(c.ALLOCATION_IP!), c.DEPLOY_PHASE]).sort(), [["restart", 1, "job_control"], ["restart", 3, "job_control"]]);
    assert.deepEqual(targets("ctl"), []);
  });
});
