/**
 * Health-check probing, side by side with a floor in one run.
 *
 *   node dist/bench/health.js [--allocations 200] [--width 16] [--rounds 5]
 *
 * A built bucket with one job on 200 workers (127.0.1.1 …) and three checks per allocation (tcp,
 * http with expect_status, http with expect_body), max_concurrent_upgrades 16. A child process
 * serves real listeners on every worker address. maand: plan from the catalog and KV
 * (loadHealthPlan: ports resolved from a KV key) and run it (runHealthPlan: rollout batches of
 * 16, every check of a batch in parallel). Floor: a bare Node loop doing the same connects and
 * GETs in the same batches with nothing else. The SSH gate of `maand health_check` is not part
 * of it (it needs an sshd per worker; bench/deploy measures SSH). Rounds alternate; the best of
 * each is reported. Target: maand <= 1.5x the floor.
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { initBucket } from "../server/bucket/init.js";
import { openBucket } from "../server/bucket/context.js";
import { runBuild } from "../server/build/run.js";
import { loadHealthPlan } from "../server/health/input.js";
import { runHealthPlan } from "../server/health/run.js";

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const ALLOCATIONS = arg("allocations", 200);
const WIDTH = arg("width", 16);
const ROUNDS = arg("rounds", 5);
const TCP_PORT = 7301;
const HTTP_PORT = 7302;
const ip = (i: number) => `127.0.${1 + (i >> 8)}.${(i & 255) + 1}`;

// The listeners live in their own process, as a real service would: the probing side's event
// loop is not also the serving side's.
const LISTENERS = `
const net = require("node:net"), http = require("node:http");
const ips = JSON.parse(process.argv[1]);
let up = 0;
const ready = () => { if (++up === ips.length * 2) process.stdout.write("ready\\n"); };
for (const host of ips) {
  net.createServer((s) => s.end()).listen(${TCP_PORT}, host, ready);
  const srv = http.createServer((req, res) => res.end(req.url === "/ready" ? "status: ok\\n" : "fine\\n"));
  srv.keepAliveTimeout = 0;
  srv.listen(${HTTP_PORT}, host, ready);
}
`;

async function startListeners(ips: string[]): Promise<() => void> {
  const child = spawn(process.execPath, ["-e", LISTENERS, JSON.stringify(ips)], { stdio: ["ignore", "pipe", "inherit"] });
  await new Promise<void>((resolve, reject) => {
    child.stdout.once("data", () => resolve());
    child.once("exit", (code) => reject(new Error(`listeners exited ${code}`)));
  });
  return () => child.kill();
}

function floorTcp(host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = connect({ host, port: TCP_PORT });
    s.once("connect", () => {
      s.destroy();
      resolve();
    });
    s.once("error", reject);
  });
}

function floorHttp(host: string, path: string, body?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(`http://${host}:${HTTP_PORT}${path}`, { agent: false }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (text += c));
      res.on("end", () => (res.statusCode === 200 && (body === undefined || text.includes(body)) ? resolve() : reject(new Error(`${res.statusCode} ${text}`))));
    });
    req.once("error", reject);
    req.end();
  });
}

async function floor(ips: string[]): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < ips.length; i += WIDTH) {
    await Promise.all(ips.slice(i, i + WIDTH).flatMap((h) => [floorTcp(h), floorHttp(h, "/healthz"), floorHttp(h, "/ready", "ok")]));
  }
  return performance.now() - t0;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "maand-bench-health-"));
  const ips = Array.from({ length: ALLOCATIONS }, (_, i) => ip(i));
  const stop = await startListeners(ips);
  try {
    const root = join(dir, "bucket");
    await initBucket(root);
    writeFileSync(join(root, "workspace", "workers.json"), JSON.stringify(ips.map((host) => ({ host, labels: ["web"] }))));
    const job = join(root, "workspace", "jobs", "web");
    mkdirSync(job, { recursive: true });
    writeFileSync(
      join(job, "manifest.json"),
      JSON.stringify({
        version: "1.0.0",
        selectors: ["web"],
        max_concurrent_upgrades: WIDTH,
        health_check: {
          checks: [
            { type: "tcp", port: "tcp_port" },
            { type: "http", port: HTTP_PORT, path: "/healthz" },
            { type: "http", port: HTTP_PORT, path: "/ready", expect_body: "ok" },
          ],
          timeout_seconds: 5,
        },
      }),
    );
    writeFileSync(join(job, "vars.toml"), `tcp_port = ${TCP_PORT}\n`);
    const ctx = openBucket(root);
    try {
      await runBuild(ctx);
      const maand = async () => {
        const t0 = performance.now();
        const plan = loadHealthPlan(ctx.db, ctx.kv);
        const results = await runHealthPlan(plan, { exec: () => Promise.reject(new Error("no ssh checks here")), wait: false });
        const ms = performance.now() - t0;
        const failed = results.filter((r) => r.status !== "ok");
        if (results.length !== ALLOCATIONS * 3 || failed.length) throw new Error(`${results.length} results, ${failed.length} failed: ${failed[0]?.error}`);
        return ms;
      };
      await maand(); // warm-up: JIT, the listeners' accept queues
      await floor(ips);
      let best = { maand: Infinity, floor: Infinity };
      for (let r = 0; r < ROUNDS; r++) {
        best = { maand: Math.min(best.maand, await maand()), floor: Math.min(best.floor, await floor(ips)) };
      }
      const ratio = best.maand / best.floor;
      console.log(`health check: ${ALLOCATIONS} allocations x 3 probes, width ${WIDTH}, best of ${ROUNDS}`);
      console.log(`  maand (plan from catalog + probes) ${best.maand.toFixed(1)} ms`);
      console.log(`  floor (bare Node connects)         ${best.floor.toFixed(1)} ms`);
      console.log(`  ratio ${ratio.toFixed(2)}x (target <= 1.5x)`);
      if (ratio > 1.5) process.exitCode = 1;
    } finally {
      ctx.close();
    }
  } finally {
    stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
