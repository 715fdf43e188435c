/**
 * Deploy transfer benchmark: maand's sync against rsync over OpenSSH, side by side in one run,
 * on real sshd test workers (loopback, root, private /opt/worker each).
 *
 *   node dist/bench/deploy.js [--rounds 3] [--files 2000] [--mb 20] [--fleet 32]
 *
 * 1. 4 workers x 1 job of 2,000 files (20 MB): first sync, a one-file change, no change. maand
 *    uses a fresh connection pool per step (as a new `maand deploy` process would) and syncs the
 *    4 workers in parallel; the floor is 4 parallel `rsync -a -e "ssh ..."` processes into a
 *    separate directory of the same workers (connection set-up included on both sides).
 *    Targets: first <= 1.5x rsync, one-file <= 1.0x, no change <= 0.5x rsync's no-change run.
 *    Steps alternate maand and rsync; best of the rounds is reported.
 * 2. 32 workers x 1 small job: first sync and no change, with the peak number of concurrent
 *    SSH connections (bounded by maxWorkers, default 32).
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { withDefaults } from "../server/workers/options.js";
import { WorkerPool } from "../server/workers/pool.js";
import { syncWorkers, type SyncRequest } from "../server/workers/sync.js";
import type { SyncFile } from "../server/workers/sync-plan.js";
import { startWorkers, testWorkersUnavailable, type WorkerSet } from "../test/workers/workers.js";

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const ROUNDS = arg("rounds", 3);
const FILES = arg("files", 2000);
const MB = arg("mb", 20);
const FLEET = arg("fleet", 32);
const BIG_WORKERS = 4;
const BUCKET = "bench-0000-4000-8000-000000000001";
const RSYNC_DIR = "/opt/worker/rsync-floor/jobs/big/";

/** Deterministic incompressible content, spread over 40 directories. */
function bigJob(): SyncFile[] {
  const size = Math.floor((MB * 1024 * 1024) / FILES);
  return Array.from({ length: FILES }, (_, i) => {
    const content = Buffer.alloc(size);
    for (let o = 0; o < size; o += 32) createHash("sha256").update(`${i}:${o}`).digest().copy(content, o);
    return sync(`d${String(i % 40).padStart(2, "0")}/f${i}.dat`, content, i % 10 === 0 ? 0o755 : 0o644);
  });
}

function sync(path: string, content: Buffer, mode = 0o644): SyncFile {
  return { path, mode, hash: createHash("sha256").update(content).digest("hex"), content };
}

function writeTree(dir: string, files: SyncFile[]): void {
  for (const f of files) {
    mkdirSync(dirname(join(dir, f.path)), { recursive: true });
    writeFileSync(join(dir, f.path), f.content, { mode: f.mode });
  }
}

function pool(set: WorkerSet, maxWorkers = 32): WorkerPool {
  return new WorkerPool(withDefaults({ user: set.user, port: set.port, keyPath: set.keyPath, useSudo: false, knownHostsFile: set.knownHostsFile, maxWorkers }));
}

interface MaandRun {
  ms: number;
  sent: number;
  bytes: number;
  peak: number;
}

/** One step as a fresh `maand deploy` would do it: new pool, all workers in parallel, close. */
async function maandStep(set: WorkerSet, hosts: string[], files: SyncFile[], job: string): Promise<MaandRun> {
  const t0 = performance.now();
  const p = pool(set);
  try {
    const reqs: SyncRequest[] = hosts.map((host) => ({ host, bucketId: BUCKET, jobs: [{ job, files }] }));
    const out = await syncWorkers(p, reqs);
    const failed = out.filter((o) => o.error);
    if (failed.length) throw failed[0].error;
    const ms = performance.now() - t0;
    return { ms, sent: out.reduce((n, o) => n + (o.result?.jobs[0].sent.length ?? 0), 0), bytes: out.reduce((n, o) => n + (o.result?.wireBytes ?? 0), 0), peak: p.stats().peakConnections };
  } finally {
    p.close();
  }
}

function rsyncOne(set: WorkerSet, src: string, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn("rsync", ["-a", "-e", set.sshCommand, `${src}/`, `${set.user}@${host}:${RSYNC_DIR}`], { stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`rsync to ${host} exited ${code}: ${err.trim()}`))));
  });
}

async function rsyncStep(set: WorkerSet, hosts: string[], src: string): Promise<number> {
  const t0 = performance.now();
  await Promise.all(hosts.map((h) => rsyncOne(set, src, h)));
  return performance.now() - t0;
}

function clearWorkers(set: WorkerSet, n: number): void {
  for (const w of set.workers.slice(0, n)) {
    rmSync(join(w.optDir, BUCKET), { recursive: true, force: true });
    rmSync(join(w.optDir, "rsync-floor"), { recursive: true, force: true });
    mkdirSync(join(w.optDir, RSYNC_DIR.replace("/opt/worker/", "")), { recursive: true });
  }
}

interface Round {
  maand: { first: MaandRun; one: MaandRun; none: MaandRun };
  rsync: { first: number; one: number; none: number };
}

async function bigRound(set: WorkerSet, hosts: string[], files: SyncFile[], src: string, r: number): Promise<Round> {
  clearWorkers(set, hosts.length);
  writeTree(src, files);
  const changed = files.map((f, i) => (i === 7 ? sync(f.path, Buffer.concat([f.content.subarray(1), Buffer.from([r & 255])]), f.mode) : f));
  // Alternate which side goes first, so neither always finds the other's effects in the page cache.
  const maandFirst = r % 2 === 0;
  const both = async <A, B>(m: () => Promise<A>, s: () => Promise<B>): Promise<[A, B]> => {
    if (maandFirst) {
      const a = await m();
      return [a, await s()];
    }
    const b = await s();
    return [await m(), b];
  };
  const [mFirst, rFirst] = await both(() => maandStep(set, hosts, files, "big"), () => rsyncStep(set, hosts, src));
  writeFileSync(join(src, changed[7].path), changed[7].content, { mode: changed[7].mode });
  const [mOne, rOne] = await both(() => maandStep(set, hosts, changed, "big"), () => rsyncStep(set, hosts, src));
  const [mNone, rNone] = await both(() => maandStep(set, hosts, changed, "big"), () => rsyncStep(set, hosts, src));
  return { maand: { first: mFirst, one: mOne, none: mNone }, rsync: { first: rFirst, one: rOne, none: rNone } };
}

const fmt = (ms: number) => `${ms.toFixed(0)} ms`;
const mb = (b: number) => `${(b / 1048576).toFixed(1)} MB`;

async function main(): Promise<void> {
  const unavailable = testWorkersUnavailable();
  if (unavailable) {
    console.log(`skipped: ${unavailable}`);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), "maand-bench-deploy-"));
  const set = await startWorkers(FLEET, { dir: join(dir, "workers") });
  try {
    const files = bigJob();
    const total = files.reduce((n, f) => n + f.content.length, 0);
    const hosts = set.workers.slice(0, BIG_WORKERS).map((w) => w.ip);
    const src = join(dir, "src");
    console.log(`job: ${files.length} files, ${mb(total)}; ${BIG_WORKERS} workers in parallel; best of ${ROUNDS} rounds; fresh pool per maand step`);
    const rounds: Round[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      rmSync(src, { recursive: true, force: true });
      rounds.push(await bigRound(set, hosts, files, src, r));
    }
    const best = (f: (r: Round) => number) => Math.min(...rounds.map(f));
    const rows: Array<[string, (r: Round) => MaandRun, (r: Round) => number, number]> = [
      ["first sync", (r) => r.maand.first, (r) => r.rsync.first, 1.5],
      ["one-file change", (r) => r.maand.one, (r) => r.rsync.one, 1.0],
      ["no change", (r) => r.maand.none, (r) => r.rsync.none, 0.5],
    ];
    const results: string[] = [];
    for (const [name, m, s, target] of rows) {
      const mm = best((r) => m(r).ms);
      const ss = best(s);
      const ratio = mm / ss;
      const last = m(rounds[rounds.length - 1]);
      console.log(
        `${name.padEnd(16)} maand ${rounds.map((r) => fmt(m(r).ms)).join(" / ")} (sent ${last.sent} files, ${mb(last.bytes)} on the wire)  ` +
          `rsync -a ${rounds.map((r) => fmt(s(r))).join(" / ")}`,
      );
      results.push(`${name} ${fmt(mm)} vs rsync ${fmt(ss)} = ${ratio.toFixed(2)}x (target <= ${target}x) ${ratio <= target ? "OK" : "OVER"}`);
    }
    for (const r of results) console.log(`RESULT ${r}`);

    // Fleet: 32 workers x 1 small job.
    const small = Array.from({ length: 10 }, (_, i) => sync(`conf/c${i}.conf`, Buffer.from(`key${i} = ${"v".repeat(1000)}\n`)));
    const fleet = set.workers.map((w) => w.ip);
    for (const w of set.workers) rmSync(join(w.optDir, BUCKET), { recursive: true, force: true });
    const first = await maandStep(set, fleet, small, "small");
    const none = await maandStep(set, fleet, small, "small");
    console.log(
      `RESULT fleet ${fleet.length} workers x 1 job (${small.length} files): first sync ${fmt(first.ms)}, no change ${fmt(none.ms)}; ` +
        `peak concurrent SSH connections ${Math.max(first.peak, none.peak)} (bound 32)`,
    );
  } finally {
    await set.stop(true);
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
