import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { testWorkersUnavailable } from "../workers/workers.js";
import { deployBucket, recordingJob, recordingMakefile, type DeployBucket } from "./fixture.js";
import type { WorkspaceFixture } from "../helpers/bucket.js";
import type { StepRecord } from "../../server/rollout/events.js";
import { GATE_FAILED } from "../../server/deploy/lifecycle.js";

/**
 * Deploy's health gate against real listeners: the job's `make start` starts a small Python
 * HTTP server in the background on the worker's own loopback address. A worker holding
 * /opt/worker/broken when its server starts answers 503 (the port is open, the http check
 * fails), so the tcp check passes and the report must name the http one.
 */
const skip = testWorkersUnavailable();

const LISTEN_PY = `import http.server, os, sys
# Decided when the server starts: fixing a worker needs a restart, as a real service would.
BROKEN = os.path.exists("/opt/worker/broken")
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"starting\\n" if BROKEN else b"ok\\n"
        self.send_response(503 if BROKEN else 200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer.allow_reuse_address = True
http.server.ThreadingHTTPServer((sys.argv[1], int(sys.argv[2])), Handler).serve_forever()
`;

describe("deploy health gate: start/update batches wait for the job's checks (real listeners, real sshd workers)", { skip }, () => {
  let b: DeployBucket;
  const PORT = 20000 + Math.floor(Math.random() * 20000);
  const TCP = `tcp:${PORT}`;
  const HTTP = `http:${PORT}/healthz`;
  let conf = "v = 1\n";
  const n = (ip: string) => b.ips.indexOf(ip) + 1;
  const brokenFile = (i: number) => join(b.set.workers[i]!.optDir, "broken");
  const pidFile = (i: number) => b.onWorker(i, "jobs/web/data/listen.pid");

  const makefile = () => {
    // The worker's address is the server side of the SSH connection runner.py runs under.
    const vars =
      "IP := $(word 3,$(SSH_CONNECTION))\n" +
      `START = nohup python3 listen.py $(IP) ${PORT} > data/listen.log 2>&1 < /dev/null & echo $$! > data/listen.pid\n` +
      // Bounded: waits for the old server to let go of the port, never forever.
      "STOP = if [ -f data/listen.pid ]; then pid=$$(cat data/listen.pid); kill $$pid 2>/dev/null; for i in $$(seq 40); do kill -0 $$pid 2>/dev/null || break; sleep 0.05; done; rm -f data/listen.pid; fi\n";
    return vars + recordingMakefile(b.recordFile, ["start", "stop", "restart"], { start: "\t@$(START)\n", stop: "\t@$(STOP)\n", restart: "\t@$(STOP)\n\t@$(START)\n" });
  };
  const workspace = (): WorkspaceFixture => ({
    workers: b.ips.map((host) => ({ host, labels: ["worker"] })),
    jobs: {
      web: {
        manifest: {
          version: "1.0.0",
          selectors: ["worker"],
          max_concurrent_starts: 1,
          max_concurrent_upgrades: 1,
          health_check: {
            checks: [
              { type: "tcp", port: PORT },
              { type: "http", port: PORT, path: "/healthz", expect_status: 200, expect_body: "ok" },
            ],
            timeout_seconds: 2,
            wait: { attempts: 15, interval_seconds: 0.2 },
          },
        },
        files: { Makefile: makefile(), "listen.py": LISTEN_PY, "app.conf": conf },
      },
    },
  });
  const targets = () => b.records().filter((r) => r.kind === "target").map((r) => `${r.target} ${n(r.ip!)}`);
  const health = (steps: readonly StepRecord[]) =>
    steps.filter((s) => s.step === "health").map((s) => `${n(s.worker)} ${s.name} ${s.phase} ${s.batch_index + 1}/${s.batch_count} ${s.status}`).sort();
  const states = () => (JSON.parse(b.maand("cat", "deployments", "--jobs", "web", "--json").stdout) as Array<{ worker_ip: string; state: string }>).map((x) => `${n(x.worker_ip)} ${x.state}`);
  const events = (runId: string): StepRecord[] =>
    readFileSync(join(b.root, "logs", "runs", runId, "events.jsonl"), "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as StepRecord);
  const redeploy = (...args: string[]) => {
    b.build(workspace());
    b.clearRecords();
    return b.deploy(...args);
  };

  before(async () => {
    b = await deployBucket(3);
  });
  after(async () => {
    // The servers outlive their `make start` and share this host's process table.
    for (let i = 0; i < 3; i++) {
      if (!b || !existsSync(pidFile(i))) continue;
      try {
        process.kill(Number(readFileSync(pidFile(i), "utf8").trim()));
      } catch {
        // already gone
      }
    }
    await b?.cleanup();
  });

  it("--dry-run shows which checks gate the start/update batches (table and --json); --no-health-gate plans none", () => {
    b.build(workspace());
    const dry = b.maand("deploy", "--dry-run", "--json");
    assert.equal(dry.status, 0, dry.stderr);
    const plan = JSON.parse(dry.stdout).plan;
    assert.equal(plan.request.health_gate, true);
    assert.deepEqual(plan.waves[0].jobs[0].health_gate, [TCP, HTTP]);
    assert.deepEqual(plan.waves[0].jobs[0].batches.map((x: { phase: string; items: unknown[] }) => `${x.phase} ${x.items.length}`), ["new 1", "new 1", "new 1"]);
    const text = b.maand("deploy", "--dry-run");
    assert.match(text.stdout, new RegExp(`job web: .*; health gate after each start/update batch: ${TCP}, ${HTTP.replace("/", "\\/")}`));
    const off = b.maand("deploy", "--dry-run", "--json", "--no-health-gate");
    assert.equal(JSON.parse(off.stdout).plan.request.health_gate, false);
    assert.equal(JSON.parse(off.stdout).plan.waves[0].jobs[0].health_gate, null);
    assert.match(b.maand("deploy", "--dry-run", "--no-health-gate").stdout, /--no-health-gate[\s\S]*job web: .*; no health gate \(--no-health-gate\)/);
    assert.deepEqual(b.records(), [], "a dry run runs nothing");
  });

  it("a batch whose check fails stops the rollout: later batches untouched, nothing promoted, the allocation and check named, exit 3", () => {
    writeFileSync(brokenFile(1), "");
    const r = redeploy();
    assert.equal(r.status, 3, `${r.stderr}\n${r.stdout}`);
    assert.deepEqual(targets(), ["start 1", "start 2"], "batch 3 never started");
    assert.deepEqual(health(r.result!.steps), [`1 ${HTTP} new 1/3 ok`, `1 ${TCP} new 1/3 ok`, `2 ${HTTP} new 2/3 failed`, `2 ${TCP} new 2/3 ok`]);
    const failed = r.result!.steps.find((s) => s.step === "health" && s.status === "failed")!;
    assert.equal(failed.worker, b.ips[1]);
    assert.match(failed.error!, new RegExp(`GET http://${b.ips[1]!.replace(/\./g, "\\.")}:${PORT}/healthz answered 503, expected 200 after 15 attempts`));
    const job = r.result!.jobs[0]!;
    assert.equal(job.status, "failed");
    assert.deepEqual(job.promoted, []);
    assert.match(job.error!, new RegExp(`^${GATE_FAILED} after new batch 2/3: ${b.ips[1]!.replace(/\./g, "\\.")} \\(job web\\) ${HTTP.replace("/", "\\/")}: GET`));
    assert.match(r.stderr, new RegExp(`${b.ips[1]!.replace(/\./g, "\\.")} \\(job web, health ${HTTP.replace("/", "\\/")}, new, batch 2/3\\): GET .* answered 503`));
    assert.ok(!states().includes("1 promoted") && !states().some((s) => s.endsWith("promoted")), states().join(", "));
    assert.deepEqual(health(events(r.result!.run_id)), health(r.result!.steps), "events.jsonl has the same health steps");
  });

  it("after the fix a rerun restarts the unhealthy allocation, starts the untouched one, gates both and promotes", () => {
    rmSync(brokenFile(1));
    const r = redeploy();
    assert.equal(r.status, 0, `${r.stderr}\n${r.stdout}`);
    const actions = r.plan!.waves[0]!.jobs[0]!.allocations.map((a) => `${n(a.worker_ip)} ${a.action}`);
    assert.deepEqual(actions, ["1 sync", "2 restart", "3 start"], "the failed check un-applied allocation 2");
    assert.deepEqual(targets().sort(), ["restart 2", "start 3"]);
    assert.deepEqual(health(r.result!.steps), [`2 ${HTTP} update 1/1 ok`, `2 ${TCP} update 1/1 ok`, `3 ${HTTP} new 1/1 ok`, `3 ${TCP} new 1/1 ok`]);
    assert.deepEqual(r.result!.jobs[0]!.promoted.map(n).sort(), [1, 2, 3]);
    assert.deepEqual(states(), ["1 promoted", "2 promoted", "3 promoted"]);
    const hc = b.maand("health_check", "--jobs", "web");
    assert.equal(hc.status, 0, hc.stderr);
  });

  it("--no-health-gate deploys through a failing check", () => {
    writeFileSync(brokenFile(0), "");
    conf = "v = 2\n";
    const r = redeploy("--no-health-gate");
    assert.equal(r.status, 0, `${r.stderr}\n${r.stdout}`);
    assert.deepEqual(targets(), ["restart 1", "restart 2", "restart 3"]);
    assert.deepEqual(health(r.result!.steps), []);
    assert.deepEqual(states(), ["1 promoted", "2 promoted", "3 promoted"]);
    const hc = b.maand("health_check", "--jobs", "web");
    assert.equal(hc.status, 3, "the check really fails on allocation 1");
    assert.match(hc.stderr, new RegExp(`${b.ips[0]!.replace(/\./g, "\\.")} \\(job web\\) ${HTTP.replace("/", "\\/")}`));
  });

  it("maand job restart --health_check: fails (exit 3) naming the allocation and check, passes after the fix", () => {
    const dry = b.maand("job", "restart", "web", "--health_check", "--dry-run", "--allocations", b.ips[1]!);
    assert.equal(dry.status, 0, dry.stderr);
    assert.match(dry.stdout, new RegExp(`\nthen: the health checks of job web on ${b.ips[1]!.replace(/\./g, "\\.")} `));
    assert.deepEqual(JSON.parse(b.maand("job", "restart", "web", "--health_check", "--dry-run", "--json").stdout).health_check, { jobs: ["web"], allocations: b.ips });
    assert.doesNotMatch(b.maand("job", "restart", "web", "--dry-run").stdout, /health checks/);
    b.clearRecords();
    const bad = b.maand("job", "restart", "web", "--health_check");
    assert.equal(bad.status, 3, `${bad.stderr}\n${bad.stdout}`);
    assert.deepEqual(targets(), ["restart 1", "restart 2", "restart 3"], "the restart itself ran everywhere");
    assert.match(bad.stderr, new RegExp(`health check failed:\\n  ${b.ips[0]!.replace(/\./g, "\\.")} \\(job web\\) ${HTTP.replace("/", "\\/")}: GET .* answered 503`));
    assert.match(bad.stdout, /health check: failed/);

    rmSync(brokenFile(0));
    const good = b.maand("job", "restart", "web", "--health_check", "--json");
    assert.equal(good.status, 0, `${good.stderr}\n${good.stdout}`);
    const out = JSON.parse(good.stdout);
    assert.equal(out.result.status, "ok");
    assert.equal(out.health.ok, true);
    assert.deepEqual(
      out.health.checks.map((c: { worker_ip: string; check: string; status: string }) => `${n(c.worker_ip)} ${c.check} ${c.status}`).sort(),
      [1, 2, 3].flatMap((i) => [`${i} ${HTTP} ok`, `${i} ${TCP} ok`]),
    );
    const plain = b.maand("job", "restart", "web", "--allocations", b.ips[2]!);
    assert.equal(plain.status, 0);
    assert.doesNotMatch(plain.stdout, /health check/, "without --health_check no check runs");
  });
});

describe("deploy health gate with a job_control hook: the hook's new and updated allocations are gated together", { skip }, () => {
  let b: DeployBucket;
  // An ssh check: passes on a worker whose private /opt/worker holds `healthy`.
  const CHECK = "test -f /opt/worker/healthy";
  const healthy = (i: number) => join(b.set.workers[i]!.optDir, "healthy");
  let conf = "v = 1\n";
  const workspace = (): WorkspaceFixture => ({
    workers: b.ips.map((host) => ({ host, labels: ["worker"] })),
    jobs: {
      ctl: recordingJob(b.recordFile, {
        manifest: { selectors: ["worker"], health_check: { checks: [{ type: "ssh", command: CHECK }], timeout_seconds: 5, wait: { attempts: 2, interval_seconds: 0.1 } } },
        py: ["job_control"],
        files: { "app.conf": conf },
      }),
    },
  });

  before(async () => {
    b = await deployBucket(2);
  });
  after(async () => {
    await b?.cleanup();
  });

  it("plans the gate, fails the job after the hook when a check fails (not promoted, allocation named), and passes after the fix", () => {
    b.build(workspace());
    const dry = JSON.parse(b.maand("deploy", "--dry-run", "--json").stdout).plan.waves[0].jobs[0];
    assert.equal(dry.lifecycle, "job_control");
    assert.equal(dry.health_gate.length, 1);
    writeFileSync(healthy(0), "");
    b.clearRecords();
    const bad = b.deploy();
    assert.equal(bad.status, 3, `${bad.stderr}\n${bad.stdout}`);
    assert.equal(b.records().filter((x) => x.EVENT === "job_control").length, 2, "the hook ran on both allocations first");
    const job = bad.result!.jobs[0]!;
    assert.deepEqual(job.promoted, []);
    assert.match(job.error!, new RegExp(`^${GATE_FAILED} after the job_control hook: ${b.ips[1]!.replace(/\./g, "\\.")} \\(job ctl\\)`));
    const steps = bad.result!.steps.filter((s) => s.step === "health").map((s) => `${b.ips.indexOf(s.worker) + 1} ${s.phase} ${s.status}`).sort();
    assert.deepEqual(steps, ["1 new ok", "2 new failed"]);

    writeFileSync(healthy(1), "");
    conf = "v = 2\n";
    b.build(workspace());
    const good = b.deploy();
    assert.equal(good.status, 0, `${good.stderr}\n${good.stdout}`);
    assert.deepEqual(good.result!.jobs[0]!.promoted.length, 2);
    assert.ok(good.result!.steps.some((s) => s.step === "health" && s.status === "ok"));

    const off = JSON.parse(b.maand("deploy", "--dry-run", "--json", "--no-health-gate", "--force").stdout).plan.waves[0].jobs[0];
    assert.equal(off.health_gate, null);
  });
});
