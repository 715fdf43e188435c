/**
 * Runtime API throughput vs a bare node:http server, side by side in one run.
 *
 *   node dist/bench/api.js [--seconds 10] [--clients 64] [--rounds 5]
 *
 * Both servers answer GET /kv for the same key from the same SQLite database; the load
 * generator is a child process (64 keep-alive connections over raw sockets), so it does not
 * share the server's event loop. Target: runtime API >= 0.5 x bare throughput, p99 < 20 ms.
 */
import { fork } from "node:child_process";
import { createServer, type Server } from "node:http";
import { connect } from "node:net";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { initBucket } from "../server/bucket/init.js";
import { openBucket } from "../server/bucket/context.js";
import { KvSession } from "../server/store/kv-session.js";
import { InvocationRegistry } from "../server/api/registry.js";
import { startRuntimeApi } from "../server/api/server.js";
import { HEADERS } from "../server/api/request-headers.js";

/** One load run as the child reports it. */
interface LoadResult {
  latencies: number[];
  errors: number;
  seconds: number;
}

/** Several runs against one server, merged. */
interface Totals {
  latencies: number[];
  errors: number;
  seconds: number;
  /** Server process CPU (user + system) while it was under load, microseconds. */
  cpuMicros: number;
}

interface LoadSpec {
  url: string;
  headers: Record<string, string>;
  seconds: number;
  clients: number;
}

const NAMESPACE = "vars/job/api";
const KEY = "db_url";
const PATH = `/kv?namespace=${encodeURIComponent(NAMESPACE)}&key=${KEY}`;

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

/**
 * The child: `clients` keep-alive connections, each sending the next request as soon as the
 * previous response is complete. Raw sockets, not http.request: node's HTTP client costs more
 * per request than the servers under test, and would make both look alike.
 */
function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const url = new URL(spec.url);
  const head = [`GET ${url.pathname}${url.search} HTTP/1.1`, `Host: ${url.host}`, "Connection: keep-alive"]
    .concat(Object.entries(spec.headers).map(([k, v]) => `${k}: ${v}`))
    .join("\r\n");
  const requestBytes = Buffer.from(`${head}\r\n\r\n`);
  const latencies: number[] = [];
  let errors = 0;
  const start = performance.now();
  const end = start + spec.seconds * 1000;
  const connection = () =>
    new Promise<void>((resolve) => {
      const socket = connect({ host: url.hostname, port: Number(url.port), noDelay: true });
      let buf: Buffer = Buffer.alloc(0);
      let t0 = 0;
      const send = () => {
        if (performance.now() >= end) {
          socket.end();
          return;
        }
        t0 = performance.now();
        socket.write(requestBytes);
      };
      socket.on("connect", send);
      socket.on("data", (chunk: Buffer) => {
        buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
        const headerEnd = buf.indexOf("\r\n\r\n");
        if (headerEnd < 0) return;
        const headerText = buf.subarray(0, headerEnd).toString("latin1");
        const m = /content-length:\s*(\d+)/i.exec(headerText);
        const total = headerEnd + 4 + (m ? Number(m[1]) : 0);
        if (buf.length < total) return;
        if (headerText.startsWith("HTTP/1.1 200")) latencies.push(performance.now() - t0);
        else errors++;
        buf = buf.subarray(total);
        send();
      });
      socket.on("error", () => {
        errors++;
        resolve();
      });
      socket.on("close", () => resolve());
    });
  return Promise.all(Array.from({ length: spec.clients }, connection)).then(() => ({
    latencies,
    errors,
    seconds: (performance.now() - start) / 1000,
  }));
}

function loadFromChild(spec: LoadSpec): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), ["--child"], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
    child.once("message", (m) => resolve(m as LoadResult));
    child.once("error", reject);
    child.once("exit", (code) => code !== 0 && reject(new Error(`load generator exited with ${code}`)));
    child.send(spec);
  });
}

/** The floor: the same key from the same database, no framework, no checks. */
function startBare(db: ReturnType<typeof openBucket>["db"]): Promise<{ url: string; server: Server }> {
  const stmt = db.prepare<[string, string], { value: string }>("SELECT value FROM kv WHERE namespace = ? AND key = ? ORDER BY version DESC LIMIT 1");
  const server = createServer((req, res) => {
    const q = new URLSearchParams((req.url ?? "").split("?")[1] ?? "");
    const namespace = q.get("namespace") ?? "";
    const key = q.get("key") ?? "";
    const row = stmt.get(namespace, key);
    const body = JSON.stringify({ namespace, key, value: row?.value });
    res.writeHead(row ? 200 : 404, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) });
    res.end(body);
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => {
    const addr = server.address();
    resolve({ url: `http://127.0.0.1:${typeof addr === "object" && addr ? addr.port : 0}`, server });
  }));
}

async function measure(spec: LoadSpec, into: Totals): Promise<void> {
  const cpu0 = process.cpuUsage();
  const r = await loadFromChild(spec);
  const cpu = process.cpuUsage(cpu0);
  into.cpuMicros += cpu.user + cpu.system;
  for (const l of r.latencies) into.latencies.push(l);
  into.errors += r.errors;
  into.seconds += r.seconds;
}

function summary(t: Totals) {
  const sorted = [...t.latencies].sort((a, b) => a - b);
  const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? NaN;
  return { rps: sorted.length / t.seconds, p50: pct(0.5), p99: pct(0.99), cpuPerRequest: t.cpuMicros / Math.max(1, sorted.length), errors: t.errors };
}

const fmt = (s: ReturnType<typeof summary>) =>
  `${Math.round(s.rps).toString().padStart(7)} req/s   p50 ${s.p50.toFixed(2).padStart(6)} ms   p99 ${s.p99.toFixed(2).padStart(6)} ms   ` +
  `server CPU ${s.cpuPerRequest.toFixed(0).padStart(4)} us/req   errors ${s.errors}`;

async function main(): Promise<void> {
  const seconds = arg("seconds", 10);
  const clients = arg("clients", 64);
  const rounds = Math.max(1, arg("rounds", 5));
  const root = mkdtempSync(join(tmpdir(), "maand-bench-api-"));
  await initBucket(root);
  const bucket = openBucket(root);
  try {
    bucket.kv.put(NAMESPACE, KEY, "postgres://db:5432/api");
    const registry = new InvocationRegistry();
    const inv = registry.register({ allocId: "bench-alloc", job: "api", workerIp: "10.0.0.1", event: "cli", command: "hook_bench" });
    const api = await startRuntimeApi({ db: bucket.db, kv: new KvSession(bucket.kv), registry, auth: "token" }, { port: 0 });
    const bare = await startBare(bucket.db);
    const headers = {
      [HEADERS.allocationId]: inv.allocId,
      [HEADERS.event]: inv.event,
      [HEADERS.command]: inv.command,
      [HEADERS.authorization]: `Bearer ${inv.token}`,
    };
    console.log(
      `GET /kv, ${clients} keep-alive clients, ${seconds} s per server in ${rounds} alternating rounds ` +
        `(load generator in a child process)`,
    );
    const ours: Totals = { latencies: [], errors: 0, seconds: 0, cpuMicros: 0 };
    const floor: Totals = { latencies: [], errors: 0, seconds: 0, cpuMicros: 0 };
    // Alternate short rounds so background load on the machine hits both servers alike.
    for (let i = 0; i < rounds; i++) {
      await measure({ url: api.url + PATH, headers, seconds: seconds / rounds, clients }, ours);
      await measure({ url: bare.url + PATH, headers: {}, seconds: seconds / rounds, clients }, floor);
    }
    await api.stop();
    bare.server.closeAllConnections();
    await new Promise((r) => bare.server.close(r));
    const a = summary(ours);
    const b = summary(floor);
    console.log(`runtime API    ${fmt(a)}`);
    console.log(`bare node:http ${fmt(b)}`);
    console.log(
      `throughput ratio ${(a.rps / b.rps).toFixed(2)} (target >= 0.50); ` +
        `CPU-per-request ratio ${(b.cpuPerRequest / a.cpuPerRequest).toFixed(2)}; ` +
        `runtime API p99 ${a.p99.toFixed(2)} ms (target < 20 ms)`,
    );
    if (a.errors > 0 || b.errors > 0) process.exitCode = 1;
  } finally {
    bucket.close();
    rmSync(root, { recursive: true, force: true });
  }
}

if (process.argv.includes("--child")) {
  process.once("message", async (spec) => {
    const result = await runLoad(spec as LoadSpec);
    process.send!(result, () => process.exit(0));
  });
} else {
  await main();
}
