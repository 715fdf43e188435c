import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { testWorkersUnavailable } from "../workers/workers.js";
import { recorderPy } from "../hooks/fixture.js";
import { collect, deployBucket, maandAsync, recordingJob, type DeployBucket } from "./fixture.js";
import type { StepRecord } from "../../server/rollout/events.js";

const skip = testWorkersUnavailable();

/** A cli hook using the generated SDK's SSH helpers against its own allocation's worker. */
const SSH_HOOK = recorderPy(`
from maand import allocation_ip, run_make_target, run_runner_target, run_ssh
def note(**kv):
    with open(os.path.join(os.environ["BUCKET_ROOT"], "record.jsonl"), "a") as f:
        f.write(json.dumps(dict(kind="sdk", ip=allocation_ip(), **kv)) + "\\n")
note(ssh=run_ssh(allocation_ip(), "echo $SSH_CONNECTION | cut -d' ' -f3; cat /opt/worker/*/jobs/api/app.conf").stdout)
note(runner=run_runner_target("status").stdout)
note(make=run_make_target("status").stdout)
`);

const events = (b: DeployBucket, runId: string): StepRecord[] =>
  readFileSync(join(b.root, "logs", "runs", runId, "events.jsonl"), "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as StepRecord);

describe("run records (events.jsonl) and the SDK's SSH helpers from a real hook", { skip }, () => {
  let b: DeployBucket;
  before(async () => {
    b = await deployBucket(2);
    b.build({
      workers: b.ips.map((host) => ({ host, labels: ["worker"] })),
      jobs: {
        api: recordingJob(b.recordFile, {
          py: ["pre_deploy", "after_allocation_started"],
          manifest: { hooks: { hook_ssh: { executed_on: ["cli"] } } },
          files: { "_hooks/hook_ssh.py": SSH_HOOK, "_hooks/hook_py.py": recorderPy("print('hook says hi')") },
          makeExtra: {
            status: "\t@echo api up\n",
            restart: "\t@echo restarting now\n",
            // Prints, then waits (10 s at most) for a file only the test creates once it has seen that line.
            slow: `\t@echo waiting for go; for i in $$(seq 200); do [ -f ${join(b.root, "go")} ] && break; sleep 0.05; done; [ -f ${join(b.root, "go")} ] && echo went\n`,
          },
        }),
      },
    });
  });
  after(async () => {
    await b?.cleanup();
  });

  it("maand deploy --json prints the plan and a result whose steps are exactly the lines of events.jsonl: one per allocation x step", () => {
    const r = b.deploy();
    assert.equal(r.status, 0, r.stderr);
    const lines = events(b, r.result!.run_id);
    assert.deepEqual(lines, r.result!.steps, "the file and --json are the same data");
    const kinds = lines.map((l) => `${l.step} ${l.name}${l.event ? ` ${l.event}` : ""}`).sort();
    assert.deepEqual(kinds, [
      "hook hook_py after_allocation_started",
      "hook hook_py after_allocation_started",
      "hook hook_py pre_deploy",
      "hook hook_py pre_deploy",
      "sync sync",
      "sync sync",
      "target start",
      "target start",
    ]);
    for (const l of lines) {
      assert.equal(l.command, "deploy");
      assert.equal(l.job, "api");
      assert.ok(b.ips.includes(l.worker));
      assert.equal(l.status, "ok");
      assert.equal(l.exit_code, 0);
      assert.equal(l.timed_out, false);
      assert.ok(Date.parse(l.ended_at!) >= Date.parse(l.started_at!), "start and end");
      assert.ok(l.duration_ms >= 0);
      assert.equal(l.wave_index, 0);
    }
    const start = lines.filter((l) => l.step === "target");
    assert.deepEqual(start.map((l) => [l.phase, l.batch_index, l.batch_count]), [["new", 0, 1], ["new", 0, 1]]);
  });

  it("--build builds first; --verbose streams hook and make output; with --json an error is {error: {message, code, detail}} on stderr and stdout stays empty", () => {
    writeFileSync(join(b.root, "workspace", "jobs", "api", "app.conf"), "port = 2\n");
    const r = b.maand("deploy", "--build", "--verbose");
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^build committed/m);
    const ip = b.ips[0]!.replace(/\./g, "\\.");
    assert.match(r.stdout, new RegExp(`^\\[${ip} api hook_py\\] hook says hi$`, "m"), "hook output, prefixed");
    assert.match(r.stdout, new RegExp(`^\\[${ip} api restart\\] restarting now$`, "m"), "make output, prefixed");
    assert.match(r.stdout, /restart +ok, promoted/);
    const bad = b.maand("deploy", "--json", "--jobs", "nope");
    assert.equal(bad.status, 1);
    assert.equal(bad.stdout, "");
    // One line, the same shape as every command's (server/errors.ts MaandError.toJson).
    const e = JSON.parse(bad.stderr) as { error: { message: string; code: string; detail?: unknown } };
    assert.equal(e.error.code, "MAAND");
    assert.match(e.error.message, /--jobs nope: unknown job \(known: api\)/);
  });

  it("--verbose shows make's output while the target runs, not when it ends", async () => {
    const child = maandAsync(b.root, "job", "run", "api", "--target", "slow", "--allocations", b.ips[0]!, "--verbose");
    const done = collect(child);
    let seen = "";
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on("data", (d: Buffer) => {
        seen += d.toString("utf8");
        if (seen.includes(`[${b.ips[0]} api slow] waiting for go`)) resolve();
      });
      child.on("close", () => void done.then((r) => reject(new Error(`exited ${r.status} before printing the target's first line:\n${seen}\n${r.stderr}`))));
    });
    writeFileSync(join(b.root, "go"), "");
    const r = await done;
    assert.equal(r.status, 0, `${r.stderr}\n${seen}${r.stdout}`);
    assert.match(seen + r.stdout, new RegExp(`\\[${b.ips[0]!.replace(/\./g, "\\.")} api slow\\] went`));
  });

  it("maand hooks writes the same events.jsonl for its run", () => {
    const before = new Set(readdirSync(join(b.root, "logs", "runs")));
    const r = b.maand("hooks", "hook_ssh", "api");
    assert.equal(r.status, 0, r.stderr);
    const runId = readdirSync(join(b.root, "logs", "runs")).find((d) => !before.has(d))!;
    const lines = events(b, runId);
    assert.deepEqual(lines.map((l) => [l.command, l.step, l.name, l.event, l.status, l.worker]).sort(), b.ips.map((ip) => ["hooks", "hook", "hook_ssh", "cli", "ok", ip]).sort());
    assert.deepEqual(lines.map((l) => [l.batch_index, l.batch_count]).sort(), [[0, 2], [1, 2]]);
  });

  it("run_ssh, run_runner_target and run_make_target reach the hook's worker with the bucket's key and known_hosts", () => {
    const sdk = b.records().filter((r) => r.kind === "sdk");
    for (const ip of b.ips) {
      const mine = sdk.filter((r) => r.ip === ip);
      assert.equal(mine.find((r) => r.ssh)?.ssh, `${ip}\nport = 2\n`, "run_ssh ran on this allocation's worker");
      assert.match(mine.find((r) => r.runner)!.runner!, /api up\n[\s\S]*api status: ok/, "runner.py status --jobs api");
      assert.match(mine.find((r) => r.make)!.make!, new RegExp(`^make: Entering directory '/opt/worker/${b.bucketId}/jobs/api'\napi up\n`), "make -C <job dir> status");
    }
  });
  it("an allocation's certs from KV are staged into certs/ (key 0600) and hashed the same way when planning, so a redeploy skips", () => {
    const ws = {
      workers: b.ips.map((host) => ({ host, labels: ["worker"] })),
      jobs: {
        api: recordingJob(b.recordFile, { files: { "app.conf": "port = 2\n" } }),
        tls: recordingJob(b.recordFile, { manifest: { certs: { server: { subject: { common_name: "tls" } } } } }),
      },
    };
    b.build(ws);
    const r = b.deploy("--jobs", "tls");
    assert.equal(r.status, 0, r.stderr);
    for (let i = 0; i < 2; i++) {
      assert.match(readFileSync(b.onWorker(i, "jobs/tls/certs/server.crt"), "utf8"), /^-----BEGIN CERTIFICATE-----/);
      assert.equal(statSync(b.onWorker(i, "jobs/tls/certs/server.key")).mode & 0o777, 0o600);
    }
    const again = b.deploy("--jobs", "tls");
    assert.deepEqual(again.plan!.waves[0]!.jobs[0]!.allocations.map((a) => [a.action, a.reason]), [["skip", "promoted"], ["skip", "promoted"]]);
  });
});
