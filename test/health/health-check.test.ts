import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { rmSync, writeFileSync } from "node:fs";
import { createServer as createHttpServer, type Server as HttpServer } from "node:http";
import { createServer as createTcpServer, type Server as TcpServer } from "node:net";
import { join } from "node:path";
import { makeBucket, writeWorkspace } from "../helpers/bucket.js";
import { maandAsync, collect, type CliResult } from "../helpers/cli.js";
import { connectBucket, startWorkers, testWorkersUnavailable, type WorkerSet } from "../workers/workers.js";

/**
 * `maand health_check` against real listeners on the test workers' loopback addresses and real
 * sshd workers (ssh checks run inside each worker's own mount namespace).
 */
const skip = testWorkersUnavailable();

const HC_HOOK = `import sys
from maand import put_job_variable, allocation_ip
res = put_job_variable("probe", "x")
# the runtime API refuses KV writes during health_check, with the note's message
assert res.status_code == 400 and res.json()["message"] == "KV writes are not allowed during health_check", res.text
print("health hook ran on " + allocation_ip())
`;

describe("maand health_check (real listeners and sshd workers)", { skip }, () => {
  let set: WorkerSet;
  let root = "";
  let cleanup = () => {};
  const tcp: TcpServer[] = [];
  const http: HttpServer[] = [];
  let httpHits = 0;
  let healthyAfter = 0;
  const TCP_PORT = 20000 + Math.floor(Math.random() * 20000);
  const HTTP_PORT = TCP_PORT + 1;

  // Asynchronously: the HTTP listeners live in this process's event loop.
  const maand = (...args: string[]): Promise<CliResult> => collect(maandAsync(root, ...args));
  const listen = (server: TcpServer | HttpServer, host: string, port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => resolve());
    });

  before(async () => {
    set = await startWorkers(2);
    const b = await makeBucket("maand-health-");
    root = b.root;
    cleanup = b.cleanup;
    connectBucket(root, set, { settings: { ssh_connect_timeout: "5" } });
    writeWorkspace(root, {
      workers: set.workers.map((w) => ({ host: w.ip, labels: ["web"] })),
      jobs: {
        web: {
          manifest: {
            version: "1.0.0",
            selectors: ["web"],
            max_concurrent_upgrades: 1,
            hooks: { hook_hc: { executed_on: ["health_check"] } },
            health_check: {
              checks: [
                { type: "tcp", port: TCP_PORT },
                // a port named by a KV key (vars.toml), an expected status and body
                { type: "http", port: "http_port", path: "/ready", expect_status: 200, expect_body: "ready" },
                { type: "ssh", command: "test -f /opt/worker/ready" },
              ],
              timeout_seconds: 2,
              wait: { attempts: 20, interval_seconds: 0.1 },
            },
          },
          vars: `http_port = ${HTTP_PORT}\n`,
          files: { "_hooks/hook_hc.py": HC_HOOK },
        },
      },
    });
    for (const w of set.workers) {
      const t = createTcpServer((s) => s.end());
      await listen(t, w.ip, TCP_PORT);
      tcp.push(t);
      const h = createHttpServer((req, res) => {
        httpHits++;
        // ready only from the N-th request on: --wait must retry, and a plain run sees 503
        const ok = httpHits > healthyAfter;
        res.writeHead(ok ? 200 : 503).end(ok ? "ready\n" : "starting\n");
      });
      await listen(h, w.ip, HTTP_PORT);
      http.push(h);
      writeFileSync(join(w.optDir, "ready"), "");
    }
    const built = await maand("build");
    assert.equal(built.status, 0, built.stderr);
  });
  after(async () => {
    for (const s of [...tcp, ...http]) s.close();
    await set?.stop();
    cleanup();
  });

  it("passes every probe on every active allocation and runs health_check hooks, whose KV writes are refused", async () => {
    const r = await maand("health_check", "--json");
    assert.equal(r.status, 0, r.stderr);
    const report = JSON.parse(r.stdout);
    assert.equal(report.ok, true);
    assert.deepEqual(
      report.checks.map((c: { worker_ip: string; check: string; status: string }) => `${c.worker_ip} ${c.check} ${c.status}`),
      set.workers.flatMap((w) => [`${w.ip} tcp:${TCP_PORT} ok`, `${w.ip} http:http_port/ready ok`, `${w.ip} ssh:test -f /opt/worker/ready ok`]),
    );
    assert.ok(report.checks.every((c: { latency_ms: number }) => c.latency_ms >= 0));
    assert.equal(report.hooks.status, "ok");
    assert.equal(report.hooks.invocations.length, 2);
    const text = await maand("health_check");
    assert.equal(text.status, 0, text.stderr);
    assert.match(text.stdout, /ALLOCATION\s+JOB\s+CHECK\s+RESULT\s+LATENCY\s+ERROR/);
    assert.match(text.stdout, /health check: ok \(6\/6 checks passed, 2\/2 health_check hooks passed\)/);
  });

  it("a failing probe fails the command (exit 3) naming the allocation and check; later batches are not run", async () => {
    await new Promise((r) => tcp[0]!.close(r));
    try {
      const r = await maand("health_check", "--json");
      assert.equal(r.status, 3, r.stdout);
      const report = JSON.parse(r.stdout);
      const first = report.checks.find((c: { worker_ip: string; check: string }) => c.worker_ip === set.workers[0]!.ip && c.check === `tcp:${TCP_PORT}`);
      assert.equal(first.status, "failed");
      assert.match(first.error, /connection refused/);
      assert.ok(report.checks.filter((c: { worker_ip: string }) => c.worker_ip === set.workers[1]!.ip).every((c: { status: string }) => c.status === "not_run"), "batch 2 waited for batch 1");
      const text = await maand("health_check");
      assert.match(text.stderr, new RegExp(`health check failed:\\n  ${set.workers[0]!.ip.replace(/\./g, "\\.")} \\(job web\\) tcp:${TCP_PORT}: connection refused`));
    } finally {
      const t = createTcpServer((s) => s.end());
      tcp[0] = t;
      await listen(t, set.workers[0]!.ip, TCP_PORT);
    }
  });

  it("an ssh check runs on the worker: a missing file fails it", async () => {
    rmSync(join(set.workers[1]!.optDir, "ready"));
    try {
      const r = await maand("health_check", "--json");
      assert.equal(r.status, 3);
      const c = JSON.parse(r.stdout).checks.find((x: { worker_ip: string; check: string }) => x.worker_ip === set.workers[1]!.ip && x.check.startsWith("ssh:"));
      assert.equal(c.status, "failed");
      assert.match(c.error, /exited 1/);
    } finally {
      writeFileSync(join(set.workers[1]!.optDir, "ready"), "");
    }
  });

  it("--wait retries per the manifest's wait until a slow service comes up", async () => {
    httpHits = 0;
    healthyAfter = 5;
    const plain = await maand("health_check", "--json");
    assert.equal(plain.status, 3, "without --wait the first 503 fails");
    httpHits = 0;
    const waited = await maand("health_check", "--wait", "--json");
    assert.equal(waited.status, 0, waited.stdout + waited.stderr);
    const http0 = JSON.parse(waited.stdout).checks.find((c: { check: string }) => c.check.startsWith("http:"));
    assert.ok(http0.attempts > 1, `retried: ${http0.attempts} attempts`);
    healthyAfter = 0;
  });

  it("a worker whose sshd is down fails the SSH gate first: exit 4, naming it, no probe run", async () => {
    await set.kill(1);
    try {
      const r = await maand("health_check");
      assert.equal(r.status, 4, r.stdout + r.stderr);
      assert.match(r.stderr, new RegExp(`worker ${set.workers[1]!.ip.replace(/\./g, "\\.")} unreachable`));
      assert.doesNotMatch(r.stdout, /ALLOCATION/);
    } finally {
      await set.start(1);
    }
  });
});
