/**
 * Deploy benchmark: a real `maand deploy` (the CLI as a process, as an operator runs it) against
 * `rsync -a` over OpenSSH, side by side in one run, on real sshd test workers (loopback, root,
 * private /opt/worker each).
 *
 *   node dist/bench/deploy.js [--rounds 3] [--files 2000] [--mb 20] [--fleet 32]
 *
 * 1. 4 workers x 1 job of 2,000 files (20 MB): first deploy, a one-file change, no change.
 *    maand: `maand deploy` of a built bucket (process start, plan, worker check, sync, make start
 *    or restart on every worker, promote, jobs.json refresh; `maand build` before it is not
 *    timed); the floor: 4 parallel `rsync -a -e "ssh ..."` processes into another directory of
 *    the same workers. Targets: first <= 1.5x rsync, one-file <= 1.0x, no change <= 0.5x
 *    rsync's no-change run. Steps alternate which side goes first, each after a `sync` (no
 *    dirty pages left by the setup or the other side); best of the rounds counts. maand runs
 *    with its defaults, so its one-file and no-change deploys reuse the connections the
 *    holder kept (ssh_persist); printed beside: the one-file deploy with ssh_persist = 0, and
 *    rsync over a kept OpenSSH connection (ControlPersist), the holder's peer.
 * 2. 32 workers x 1 small job: a full first deploy and a no-change redeploy, with the peak
 *    number of concurrent SSH connections (maand.conf ssh_max_workers, default 32).
 */
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { connectBucket, startWorkers, testWorkersUnavailable, type WorkerSet } from "../test/workers/workers.js";
import type { DeployResult } from "../server/deploy/result.js";
import { DEFAULT_CONF } from "../server/bucket/conf.js";

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const ROUNDS = arg("rounds", 3);
const FILES = arg("files", 2000);
const MB = arg("mb", 20);
const FLEET = arg("fleet", 32);
const BIG_WORKERS = 4;
const RSYNC_DIR = "/opt/worker/rsync-floor/jobs/big/";
const MAAND = join(resolve(dirname(fileURLToPath(import.meta.url)), "..", ".."), "bin", "maand.js");
const MAKEFILE = "start:\n\t@true\nstop:\n\t@true\nrestart:\n\t@true\nreload:\n\t@true\n";

interface File {
  path: string;
  mode: number;
  content: Buffer;
}

/** Deterministic incompressible content, spread over 40 directories. */
function bigJob(): File[] {
  const size = Math.floor((MB * 1024 * 1024) / FILES);
  return Array.from({ length: FILES }, (_, i) => {
    const content = Buffer.alloc(size);
    for (let o = 0; o < size; o += 32) createHash("sha256").update(`${i}:${o}`).digest().copy(content, o);
    return { path: `d${String(i % 40).padStart(2, "0")}/f${i}.dat`, mode: i % 10 === 0 ? 0o755 : 0o644, content };
  });
}

function writeTree(dir: string, files: File[]): void {
  for (const f of files) {
    mkdirSync(dirname(join(dir, f.path)), { recursive: true });
    writeFileSync(join(dir, f.path), f.content, { mode: f.mode });
  }
}

/** The environment without NODE_EXTRA_CA_CERTS (see nodeStart). */
const { NODE_EXTRA_CA_CERTS: extraCaCerts, ...withoutCaEnv } = process.env;

function cliIn(env: NodeJS.ProcessEnv, bucket: string, ...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [MAAND, "--bucket", bucket, ...args], { encoding: "utf8", maxBuffer: 64 * 1024 * 1024, env });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function must(bucket: string, ...args: string[]): string {
  return mustIn(process.env, bucket, ...args);
}

function mustIn(env: NodeJS.ProcessEnv, bucket: string, ...args: string[]): string {
  const r = cliIn(env, bucket, ...args);
  if (r.status !== 0) throw new Error(`maand ${args.join(" ")} exited ${r.status}: ${r.stderr.slice(-2000)}`);
  return r.stdout;
}

/** A bucket reaching `hosts` of the set as root, with one job of `files` (built, not deployed). */
function makeBucket(dir: string, set: WorkerSet, hosts: string[], files: File[]): string {
  const bucket = mkdtempSync(join(dir, "bucket-"));
  must(bucket, "init");
  // The same host keys the rsync side trusts: neither side pays for first contact.
  // maand's default ssh_persist (the test helper turns the holder off unless asked).
  connectBucket(bucket, set, { settings: { hook_api_port: "0", ssh_persist: String(DEFAULT_CONF.ssh_persist) }, trustHostKeys: true });
  writeFileSync(join(bucket, "workspace", "workers.json"), JSON.stringify(hosts.map((host) => ({ host, labels: ["worker"] }))));
  const job = join(bucket, "workspace", "jobs", "big");
  writeTree(job, files);
  writeFileSync(join(job, "Makefile"), MAKEFILE);
  writeFileSync(join(job, "manifest.json"), JSON.stringify({ version: "1.0.0", selectors: ["worker"], max_concurrent_upgrades: hosts.length }));
  must(bucket, "build");
  return bucket;
}

interface MaandRun {
  ms: number;
  result: DeployResult;
}

function deploy(bucket: string, ...flags: string[]): MaandRun {
  return deployIn(process.env, bucket, ...flags);
}

function deployIn(env: NodeJS.ProcessEnv, bucket: string, ...flags: string[]): MaandRun {
  const t0 = performance.now();
  const out = mustIn(env, bucket, "deploy", "--json", ...flags);
  const ms = performance.now() - t0;
  return { ms, result: (JSON.parse(out) as { result: DeployResult }).result };
}

/** OpenSSH options that keep the connection for later runs (what maand's holder does), or none. */
type Ssh = { extra: string };
const FRESH: Ssh = { extra: "" };

function rsyncOne(set: WorkerSet, src: string, host: string, ssh: Ssh): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn("rsync", ["-a", "-e", `${set.sshCommand}${ssh.extra}`, `${src}/`, `${set.user}@${host}:${RSYNC_DIR}`], { stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`rsync to ${host} exited ${code}: ${err.trim()}`))));
  });
}

async function rsyncStep(set: WorkerSet, hosts: string[], src: string, ssh: Ssh = FRESH): Promise<number> {
  const t0 = performance.now();
  await Promise.all(hosts.map((h) => rsyncOne(set, src, h, ssh)));
  return performance.now() - t0;
}

/** Empties each worker's /opt/worker (its contents: the directory itself is the bind mount's source). */
function clearWorkers(set: WorkerSet, n: number): void {
  for (const w of set.workers.slice(0, n)) {
    for (const name of readdirSync(w.optDir)) rmSync(join(w.optDir, name), { recursive: true, force: true });
    mkdirSync(join(w.optDir, RSYNC_DIR.replace("/opt/worker/", "")), { recursive: true });
  }
}

interface Round {
  maand: { first: MaandRun; one: MaandRun; none: MaandRun; oneSyncOnly: MaandRun; oneDirect: MaandRun; noneWithoutCa?: MaandRun };
  rsync: { first: number; one: number; none: number; oneKept: number };
  buildMs: number;
}

async function bigRound(dir: string, set: WorkerSet, hosts: string[], files: File[], r: number): Promise<Round> {
  clearWorkers(set, hosts.length);
  const src = join(dir, `src-${r}`);
  writeTree(src, files);
  const bucket = makeBucket(dir, set, hosts, files);
  const changed = { ...files[7]!, content: Buffer.concat([files[7]!.content.subarray(1), Buffer.from([r & 255])]) };
  // Alternate which side goes first, so neither always finds the other's effects in the page cache.
  const maandFirst = r % 2 === 0;
  // Each side starts with no dirty page cache left by the setup or by the other side: without
  // this, whichever side ran first also paid for writing back the round's setup (clearing the
  // workers, writing the source tree, maand build), which swung the ratio 5x between rounds.
  const settled = <T>(f: () => T): T => {
    spawnSync("sync");
    return f();
  };
  const both = async <A>(m: () => A, s: () => Promise<number>): Promise<[A, number]> => {
    if (maandFirst) {
      const a = settled(m);
      return [a, await settled(s)];
    }
    const b = await settled(s);
    return [settled(m), b];
  };
  const [mFirst, rFirst] = await both(() => deploy(bucket), () => rsyncStep(set, hosts, src));
  writeFileSync(join(src, changed.path), changed.content, { mode: changed.mode });
  writeFileSync(join(bucket, "workspace", "jobs", "big", changed.path), changed.content, { mode: changed.mode });
  const b0 = performance.now();
  must(bucket, "build");
  const buildMs = performance.now() - b0;
  const [mOne, rOne] = await both(() => deploy(bucket), () => rsyncStep(set, hosts, src));
  const [mNone, rNone] = await both(() => deploy(bucket), () => rsyncStep(set, hosts, src));
  // The same no-change deploy without the machine's NODE_EXTRA_CA_CERTS (when it sets one).
  const mNoneWithoutCa = extraCaCerts ? settled(() => deployIn(withoutCaEnv, bucket)) : undefined;
  // The same one-file change without the lifecycle (--sync-only: sync and promote, no make
  // target), which is all rsync does.
  const again = { ...changed, content: Buffer.concat([changed.content, Buffer.from([1])]) };
  writeFileSync(join(bucket, "workspace", "jobs", "big", again.path), again.content, { mode: again.mode });
  must(bucket, "build");
  const mSyncOnly = settled(() => deploy(bucket, "--sync-only"));
  // The same one-file change with ssh_persist = 0: maand connects and authenticates anew, as
  // every rsync run above does.
  const conf = join(bucket, "maand.conf");
  writeFileSync(conf, readFileSync(conf, "utf8").replace(/^ssh_persist = .*$/m, "ssh_persist = 0"));
  const third = { ...again, content: Buffer.concat([again.content, Buffer.from([2])]) };
  writeFileSync(join(bucket, "workspace", "jobs", "big", third.path), third.content, { mode: third.mode });
  must(bucket, "build");
  const mDirect = settled(() => deploy(bucket));
  // And the peer of maand's holder on the rsync side: OpenSSH keeping its connection
  // (ControlPersist), warmed by one run, then the one-file change.
  const kept: Ssh = { extra: ` -o ControlMaster=auto -o ControlPath=${join(dir, `cm-${r}-%C`)} -o ControlPersist=60` };
  await rsyncStep(set, hosts, src, kept);
  writeFileSync(join(src, third.path), third.content, { mode: third.mode });
  const rKept = await settled(() => rsyncStep(set, hosts, src, kept));
  for (const h of hosts) spawnSync("ssh", [...set.sshCommand.split(" ").slice(1), ...kept.extra.trim().split(" "), "-O", "exit", `${set.user}@${h}`], { stdio: "ignore" });
  // Removing the bucket removes the holder's socket: it leaves, closing its connections.
  rmSync(bucket, { recursive: true, force: true });
  rmSync(src, { recursive: true, force: true });
  for (const m of [mFirst, mOne, mNone, mSyncOnly, mDirect]) if (m.result.status !== "ok") throw new Error(`deploy ${m.result.run_id}: ${m.result.status}`);
  return {
    maand: { first: mFirst, one: mOne, none: mNone, oneSyncOnly: mSyncOnly, oneDirect: mDirect, ...(mNoneWithoutCa ? { noneWithoutCa: mNoneWithoutCa } : {}) },
    rsync: { first: rFirst, one: rOne, none: rNone, oneKept: rKept },
    buildMs,
  };
}

const fmt = (ms: number) => `${ms.toFixed(0)} ms`;

/**
 * The process's time split by the run's own step records: before the first step (CLI start,
 * plan, SSH connect and worker check), the slowest sync and make target (they run per worker in
 * parallel), and the rest (promote, exit). Where a speed-up must come from.
 */
function breakdown(m: MaandRun): string {
  const steps = m.result.steps;
  if (!steps.length) return `${fmt(m.ms)}, no step ran`;
  const at = (iso: string) => Date.parse(iso);
  const start = at(m.result.started_at);
  const firstStep = Math.min(...steps.map((s) => at(s.started_at ?? m.result.started_at)));
  const lastStep = Math.max(...steps.map((s) => at(s.ended_at ?? m.result.ended_at)));
  const slowest = (kind: string) => Math.max(0, ...steps.filter((s) => s.step === kind).map((s) => s.duration_ms));
  const outside = m.ms - (at(m.result.ended_at) - start);
  return (
    `total ${fmt(m.ms)} = process start and exit ${fmt(outside)} + before the first step ${fmt(firstStep - start)} (plan, connect, worker check) + ` +
    `steps ${fmt(lastStep - firstStep)} (slowest sync ${fmt(slowest("sync"))}, slowest make target ${fmt(slowest("target"))}) + after them ${fmt(at(m.result.ended_at) - lastStep)} (promote)`
  );
}
const sent = (m: MaandRun) => m.result.steps.filter((s) => s.step === "sync").length;
/** Syncs whose worker confirmed its seal (remote-state.ts): answered in a few bytes instead of its listing. */
const sealed = (m: MaandRun) => m.result.steps.filter((s) => s.step === "sync" && s.tail.some((l) => l.endsWith("worker listing sealed"))).length;

/**
 * What starting Node costs here, the part of every maand run that is not maand's: with the
 * environment as it is and, when NODE_EXTRA_CA_CERTS is set (Node reads the whole bundle before
 * any script runs), without it. Medians of 11.
 */
function nodeStart(): string {
  const time = (env: NodeJS.ProcessEnv) => {
    const ms: number[] = [];
    for (let i = 0; i < 11; i++) {
      const t0 = performance.now();
      spawnSync(process.execPath, ["-e", "0"], { env });
      ms.push(performance.now() - t0);
    }
    return ms.sort((a, b) => a - b)[5]!;
  };
  const withEnv = time(process.env);
  if (!extraCaCerts) return `\`node -e 0\` ${fmt(withEnv)}`;
  return `\`node -e 0\` ${fmt(withEnv)}, ${fmt(time(withoutCaEnv))} without NODE_EXTRA_CA_CERTS (set here: ${extraCaCerts})`;
}

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
    console.log(`job: ${files.length} files, ${(total / 1048576).toFixed(1)} MB; ${BIG_WORKERS} workers; \`maand deploy\` as a process vs ${BIG_WORKERS} parallel \`rsync -a\`; best of ${ROUNDS} rounds`);
    const rounds: Round[] = [];
    for (let r = 0; r < ROUNDS; r++) rounds.push(await bigRound(dir, set, hosts, files, r));
    const best = (f: (r: Round) => number) => Math.min(...rounds.map(f));
    const rows: Array<[string, (r: Round) => MaandRun, (r: Round) => number, number]> = [
      ["first deploy", (r) => r.maand.first, (r) => r.rsync.first, 1.5],
      ["one-file change", (r) => r.maand.one, (r) => r.rsync.one, 1.0],
      ["no change", (r) => r.maand.none, (r) => r.rsync.none, 0.5],
    ];
    const results: string[] = [];
    for (const [name, m, s, target] of rows) {
      const mm = best((r) => m(r).ms);
      const ss = best(s);
      const ratio = mm / ss;
      const last = m(rounds[rounds.length - 1]!);
      console.log(
        `${name.padEnd(16)} maand deploy ${rounds.map((r) => fmt(m(r).ms)).join(" / ")} (${sent(last)} syncs, ${sealed(last)} of them sealed, ${last.result.steps.filter((x) => x.step === "target").length} make targets, ` +
          `${last.result.transport.connections_opened} SSH connections opened, ${last.result.transport.connections_reused} kept by the holder)  rsync -a ${rounds.map((r) => fmt(s(r))).join(" / ")}`,
      );
      // On a machine shared with other work one lucky round of either side moves the best-of
      // ratio; the median of the per-round ratios (both sides timed back to back) is steadier.
      const perRound = rounds.map((r) => m(r).ms / s(r)).sort((a, b) => a - b);
      const median = perRound[Math.floor((perRound.length - 1) / 2)]! / 2 + perRound[Math.ceil((perRound.length - 1) / 2)]! / 2;
      results.push(
        `${name} ${fmt(mm)} vs rsync ${fmt(ss)} = ${ratio.toFixed(2)}x (target <= ${target}x) ${ratio <= target ? "OK" : "OVER"}; ` +
          `per round ${perRound.map((x) => x.toFixed(2)).join(" / ")}x, median ${median.toFixed(2)}x`,
      );
    }
    const so = best((r) => r.maand.oneSyncOnly.ms);
    console.log(
      `one-file change, \`maand deploy --sync-only\` (no make target, like rsync): ${rounds.map((r) => fmt(r.maand.oneSyncOnly.ms)).join(" / ")} = ${(so / best((r) => r.rsync.one)).toFixed(2)}x rsync`,
    );
    const direct = best((r) => r.maand.oneDirect.ms);
    console.log(
      `one-file change, ssh_persist = 0 (maand connects and authenticates anew, as each rsync run does): ${rounds.map((r) => fmt(r.maand.oneDirect.ms)).join(" / ")} = ${(direct / best((r) => r.rsync.one)).toFixed(2)}x rsync`,
    );
    const kept = best((r) => r.rsync.oneKept);
    console.log(
      `one-file change, rsync -a over a kept OpenSSH connection (ControlPersist, the peer of maand's holder): ${rounds.map((r) => fmt(r.rsync.oneKept)).join(" / ")}; maand = ${(best((r) => r.maand.one.ms) / kept).toFixed(2)}x of it`,
    );
    console.log(`(maand build of the one-file change, not timed above: ${rounds.map((r) => fmt(r.buildMs)).join(" / ")})`);
    console.log(`where a one-file deploy's time goes (last round): ${breakdown(rounds[rounds.length - 1]!.maand.one)}`);
    console.log(`node start, part of every maand run: ${nodeStart()}`);
    if (extraCaCerts) {
      const nc = best((r) => r.maand.noneWithoutCa!.ms);
      console.log(
        `no change without NODE_EXTRA_CA_CERTS: ${rounds.map((r) => fmt(r.maand.noneWithoutCa!.ms)).join(" / ")} = ${(nc / best((r) => r.rsync.none)).toFixed(2)}x rsync's no-change run (best of each)`,
      );
    }
    for (const r of results) console.log(`RESULT ${r}`);

    // Fleet: 32 workers x 1 small job, first deploy and no-change redeploy.
    const small = Array.from({ length: 10 }, (_, i) => ({ path: `conf/c${i}.conf`, mode: 0o644, content: Buffer.from(`key${i} = ${"v".repeat(1000)}\n`) }));
    const fleet = set.workers.map((w) => w.ip);
    clearWorkers(set, fleet.length);
    const bucket = makeBucket(dir, set, fleet, small);
    const first = deploy(bucket);
    const none = deploy(bucket);
    console.log(
      `RESULT fleet ${fleet.length} workers x 1 job (${small.length} files): first deploy ${fmt(first.ms)} (${first.result.status}), no change ${fmt(none.ms)}; ` +
        `peak concurrent SSH connections ${first.result.transport.peak_connections} (bound ssh_max_workers = 32), ${first.result.transport.connections_opened} opened`,
    );
  } finally {
    await set.stop(true);
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
