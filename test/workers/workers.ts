/**
 * Real sshd test workers. Each worker is `sshd -D` on its own loopback address 127.a.b.N (one
 * port for the whole set, as maand.conf has one ssh_port), in its own mount namespace where
 * /opt/worker is a private directory of the test and root's ~/.bashrc is an empty file (a
 * worker is a plain host; this machine's shell start-up would otherwise run on every command).
 * Nothing outside the set's directory changes except an empty /opt/worker mount point and
 * /run/sshd. Processes are started and stopped by pid; only loopback addresses are used.
 */
import { execFileSync, spawn } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { mountNamespace, processesInNamespace, processRunning, waitFor } from "./procs.js";

export const SSHD = "/usr/sbin/sshd";
export const WORKER_MOUNT = "/opt/worker";
const SFTP_SERVER = "/usr/lib/openssh/sftp-server";
const STD_PATH = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"];

export interface TestWorker {
  index: number;
  ip: string;
  port: number;
  /** The listening sshd (from its PidFile). */
  pid: number;
  dir: string;
  /** Host directory seen as /opt/worker by this worker's sessions. */
  optDir: string;
  hostKeyPath: string;
  /** As `ssh-keygen -lf` prints it: SHA256:... */
  hostFingerprint: string;
  logFile: string;
}

export interface WorkerOptions {
  /** Executables hidden from the worker's PATH (a worker "without make"). */
  missingTools?: string[];
}

export interface StartOptions {
  /** Directory for keys, configs, logs and each worker's /opt/worker; default a fresh temp dir. */
  dir?: string;
  /** First three octets, e.g. "127.0.7"; default random in 127.100-199.x, retried on collision. */
  base?: string;
  /** Exact loopback addresses instead (the demo's workers.json): one per worker. */
  hosts?: string[];
  port?: number;
  /** sshd MaxSessions (channels per connection); OpenSSH's default is 10. */
  maxSessions?: number;
  worker?: (index: number) => WorkerOptions;
  /** Leave the workers running when this process exits (the CLI's start); otherwise they are killed then. */
  outliveProcess?: boolean;
}

export interface WorkerSet {
  dir: string;
  workers: TestWorker[];
  user: "root";
  port: number;
  keyPath: string;
  publicKeyPath: string;
  /** Every worker's host key, for OpenSSH clients (ssh/rsync) in tests and the benchmark. */
  knownHostsFile: string;
  /** `ssh -i KEY -o UserKnownHostsFile=... -p PORT` with batch options, e.g. for `rsync -e`. */
  sshCommand: string;
  /** Kills every process of worker i (listener and open sessions): a worker dying mid-deploy. */
  kill(i: number): Promise<void>;
  /** Starts worker i again (same address, host key and files). */
  start(i: number): Promise<void>;
  /** SIGSTOP / SIGCONT the listener: connections are accepted by the kernel but never answered. */
  freeze(i: number): void;
  thaw(i: number): void;
  /** A new host key for worker i (the worker restarts). */
  replaceHostKey(i: number): Promise<void>;
  /** Successful logins recorded in worker i's sshd log (one per SSH connection). */
  acceptedLogins(i: number): number;
  /** Stops every worker; `keepDir` leaves the directory (the CLI's stop removes it itself). */
  stop(keepDir?: boolean): Promise<void>;
}

/** Why test workers cannot run here, or undefined. Under CI a missing prerequisite is an error, not a skip. */
export function testWorkersUnavailable(): string | undefined {
  let reason: string | undefined;
  if (process.getuid?.() !== 0) reason = "test workers need root (mount namespaces, sshd)";
  else if (!existsSync(SSHD)) reason = `${SSHD} not found (install openssh-server)`;
  else if (!existsSync("/usr/bin/unshare")) reason = "unshare not found (util-linux)";
  else if (!existsSync("/usr/bin/ssh-keygen")) reason = "ssh-keygen not found (openssh-client)";
  if (reason && process.env.CI) throw new Error(`CI is set but ${reason}`);
  return reason;
}

interface Live {
  worker: TestWorker;
  ns?: string;
  outlive?: boolean;
}

export async function startWorkers(count: number, options: StartOptions = {}): Promise<WorkerSet> {
  if (count < 1 || count > 250) throw new Error(`between 1 and 250 workers, not ${count}`);
  if (options.hosts && (options.hosts.length !== count || !options.hosts.every((h) => /^127\.\d+\.\d+\.\d+$/.test(h)))) {
    throw new Error(`hosts: expected ${count} loopback (127.x.y.z) addresses, got ${options.hosts.join(", ")}`);
  }
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), "maand-workers-"));
  mkdirSync(dir, { recursive: true });
  mkdirSync(WORKER_MOUNT, { recursive: true });
  mkdirSync("/run/sshd", { recursive: true, mode: 0o755 });
  const keyPath = join(dir, "client_ed25519");
  if (!existsSync(keyPath)) keygen(keyPath);
  writeFileSync(join(dir, "authorized_keys"), readFileSync(`${keyPath}.pub`));
  writeFileSync(join(dir, "empty_bashrc"), "");

  let lastError: unknown;
  for (let attempt = 0; attempt < 4; attempt++) {
    const base = options.base ?? `127.${100 + rand(100)}.${rand(256)}`;
    const port = options.port ?? 20000 + rand(10000);
    const live: Live[] = [];
    try {
      for (let i = 0; i < count; i++) live.push({ worker: prepare(dir, i, options.hosts?.[i] ?? `${base}.${i + 1}`, port, options), outlive: options.outliveProcess ?? false });
      await Promise.all(live.map((l) => launch(l)));
      return makeSet(dir, port, keyPath, live, options.outliveProcess ?? false);
    } catch (err) {
      lastError = err;
      await Promise.all(live.map((l) => killLive(l)));
      if (options.base && options.port) break;
    }
  }
  throw lastError;
}

function rand(n: number): number {
  return Math.floor(Math.random() * n);
}

function keygen(file: string): void {
  rmSync(file, { force: true });
  rmSync(`${file}.pub`, { force: true });
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "maand-test", "-f", file]);
}

function fingerprintOf(pub: string): string {
  return execFileSync("ssh-keygen", ["-lf", pub], { encoding: "utf8" }).split(" ")[1];
}

function prepare(dir: string, index: number, ip: string, port: number, options: StartOptions): TestWorker {
  const wdir = join(dir, `w${index + 1}`);
  const optDir = join(wdir, "opt");
  mkdirSync(optDir, { recursive: true });
  const hostKeyPath = join(wdir, "host_ed25519_key");
  if (!existsSync(hostKeyPath)) keygen(hostKeyPath);
  const extra: string[] = [];
  const missing = options.worker?.(index).missingTools ?? [];
  if (missing.length) extra.push(`SetEnv PATH=${shadowPath(join(wdir, "path"), missing)}`);
  if (options.maxSessions) extra.push(`MaxSessions ${options.maxSessions}`);
  const logFile = join(wdir, "sshd.log");
  writeFileSync(
    join(wdir, "sshd_config"),
    [
      `ListenAddress ${ip}:${port}`,
      `HostKey ${hostKeyPath}`,
      `PidFile ${join(wdir, "sshd.pid")}`,
      `AuthorizedKeysFile ${join(dir, "authorized_keys")}`,
      "PermitRootLogin prohibit-password",
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "StrictModes no",
      "UsePAM no",
      "UseDNS no",
      "PrintMotd no",
      "MaxStartups 100:30:200",
      `Subsystem sftp ${SFTP_SERVER}`,
      ...extra,
      "",
    ].join("\n"),
  );
  return { index, ip, port, pid: 0, dir: wdir, optDir, hostKeyPath, hostFingerprint: fingerprintOf(`${hostKeyPath}.pub`), logFile };
}

/** A directory of links to every standard executable except `missing`, to serve as PATH. */
function shadowPath(target: string, missing: string[]): string {
  rmSync(target, { recursive: true, force: true });
  mkdirSync(target, { recursive: true });
  const seen = new Set(missing);
  for (const d of STD_PATH) {
    if (!existsSync(d)) continue;
    for (const name of readdirSync(d)) {
      if (seen.has(name)) continue;
      seen.add(name);
      execFileSync("ln", ["-s", join(d, name), join(target, name)]);
    }
  }
  return target;
}

async function launch(l: Live): Promise<void> {
  const w = l.worker;
  const bashrc = join(homedir(), ".bashrc");
  const pidFile = join(w.dir, "sshd.pid");
  const mounts = [`mount --bind '${w.optDir}' ${WORKER_MOUNT}`];
  if (existsSync(bashrc)) mounts.push(`mount --bind '${join(w.dir, "..", "empty_bashrc")}' '${bashrc}'`);
  const sshd = `${SSHD} -D -E '${w.logFile}' -f '${join(w.dir, "sshd_config")}'`;
  // Outliving workers (the CLI's start) are sshd itself. Otherwise a watchdog shell keeps sshd
  // as its child and stops it when this process's end of its stdin closes: a test process that
  // dies without its after() hooks (killed, crashed) leaves no sshd behind.
  const script = l.outlive
    ? `${mounts.join(" && ")} && exec ${sshd}`
    : `${mounts.join(" && ")} || exit 1; ${sshd} & pid=$!; read -r _; kill -TERM $pid 2>/dev/null; wait $pid`;
  // The log is appended to across restarts (logins are counted over the worker's life).
  const listening = () => (existsSync(w.logFile) ? readFileSync(w.logFile, "utf8").match(/Server listening/g) ?? [] : []).length;
  const before = listening();
  rmSync(pidFile, { force: true });
  const child = spawn("unshare", ["-m", "--propagation", "private", "sh", "-c", script], { detached: true, stdio: [l.outlive ? "ignore" : "pipe", "ignore", "ignore"] });
  child.unref();
  child.on("error", () => {});
  (child.stdin as (NodeJS.WritableStream & { unref?: () => void }) | null)?.unref?.();
  const shell = child.pid ?? 0;
  const own = mountNamespace("self");
  await waitFor(
    async () => {
      // Known as soon as unshare has made it, so a start that fails later is still cleaned up.
      const ns = mountNamespace(shell);
      if (!l.ns && ns && ns !== own) l.ns = ns;
      if (!processRunning(shell)) throw new Error(`sshd for ${w.ip}:${w.port} exited: ${existsSync(w.logFile) ? readFileSync(w.logFile, "utf8").trim() : "(no log)"}`);
      return listening() > before && readPid(pidFile) > 0 && (await canConnect(w.ip, w.port));
    },
    10_000,
    `sshd on ${w.ip}:${w.port}`,
  );
  w.pid = readPid(pidFile);
}

/** sshd creates its PidFile before writing it: an empty file is not a pid (and pid 0 would signal our own group). */
function readPid(file: string): number {
  try {
    const text = readFileSync(file, "utf8");
    return /^\d+\n$/.test(text) ? Number(text) : 0;
  } catch {
    return 0;
  }
}

function signalListener(w: TestWorker, signal: NodeJS.Signals): void {
  if (!(w.pid > 1)) throw new Error(`worker ${w.ip} has no listener pid`);
  process.kill(w.pid, signal);
}

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port, timeout: 2_000 });
    s.once("timeout", () => {
      s.destroy();
      resolve(false);
    });
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

async function killLive(l: Live): Promise<void> {
  const pids = l.ns ? processesInNamespace(l.ns, l.worker.optDir) : [];
  l.ns = undefined;
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGCONT");
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  await waitFor(() => pids.every((p) => !processRunning(p)), 10_000, `worker ${l.worker.ip} to exit`);
}

/** What `stopWorkersIn` needs to find a set's processes again from another process (the CLI). */
export const STATE_FILE = "workers.state.json";

interface SavedState {
  port: number;
  keyPath: string;
  knownHostsFile: string;
  sshCommand: string;
  workers: Array<{ ip: string; port: number; pid: number; ns?: string; optDir: string; logFile: string }>;
}

/** Stops the workers a `startWorkers` (or the CLI's start) left running in `dir`, by pid and mount namespace. */
export async function stopWorkersIn(dir: string, keepDir = false): Promise<number> {
  const file = join(dir, STATE_FILE);
  if (!existsSync(file)) throw new Error(`${file} not found: no test workers were started in ${dir}`);
  const state = JSON.parse(readFileSync(file, "utf8")) as SavedState;
  await Promise.all(state.workers.map((w) => killLive({ worker: { ...w, index: 0, dir, hostKeyPath: "", hostFingerprint: "" }, ns: w.ns })));
  if (!keepDir) rmSync(dir, { recursive: true, force: true });
  return state.workers.length;
}

function makeSet(dir: string, port: number, keyPath: string, live: Live[], outlive: boolean): WorkerSet {
  const knownHostsFile = join(dir, "known_hosts.openssh");
  const sshCommand = `ssh -i ${keyPath} -o UserKnownHostsFile=${knownHostsFile} -o StrictHostKeyChecking=yes -o BatchMode=yes -p ${port}`;
  const save = () => {
    const state: SavedState = {
      port,
      keyPath,
      knownHostsFile,
      sshCommand,
      workers: live.map((l) => ({ ip: l.worker.ip, port, pid: l.worker.pid, ns: l.ns, optDir: l.worker.optDir, logFile: l.worker.logFile })),
    };
    writeFileSync(join(dir, STATE_FILE), `${JSON.stringify(state, null, 2)}\n`);
  };
  save();
  const writeKnownHosts = () =>
    writeFileSync(
      knownHostsFile,
      live.map((l) => `[${l.worker.ip}]:${port} ${readFileSync(`${l.worker.hostKeyPath}.pub`, "utf8").split(" ").slice(0, 2).join(" ")}\n`).join(""),
      { mode: 0o600 },
    );
  writeKnownHosts();
  const onExit = () => {
    for (const l of live) for (const pid of l.ns ? safeList(l.ns, l.worker.optDir) : []) try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone
    }
  };
  if (!outlive) process.once("exit", onExit);
  const at = (i: number) => {
    const l = live[i];
    if (!l) throw new Error(`no worker ${i}`);
    return l;
  };
  return {
    dir,
    workers: live.map((l) => l.worker),
    user: "root",
    port,
    keyPath,
    publicKeyPath: `${keyPath}.pub`,
    knownHostsFile,
    sshCommand,
    kill: (i) => killLive(at(i)),
    start: (i) => launch(at(i)).then(save),
    freeze: (i) => signalListener(at(i).worker, "SIGSTOP"),
    thaw: (i) => signalListener(at(i).worker, "SIGCONT"),
    async replaceHostKey(i) {
      const l = at(i);
      await killLive(l);
      keygen(l.worker.hostKeyPath);
      l.worker.hostFingerprint = fingerprintOf(`${l.worker.hostKeyPath}.pub`);
      writeKnownHosts();
      await launch(l);
      save();
    },
    acceptedLogins: (i) => (readFileSync(at(i).worker.logFile, "utf8").match(/Accepted publickey/g) ?? []).length,
    async stop(keepDir = false) {
      process.off("exit", onExit);
      await Promise.all(live.map((l) => killLive(l)));
      if (!keepDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

function safeList(ns: string, optDir: string): number[] {
  try {
    return processesInNamespace(ns, optDir);
  } catch {
    return [];
  }
}

/**
 * Points a bucket at the set: maand.conf reaches the workers as root on the set's port without
 * sudo and without the SSH connection holder (plus `settings`, e.g. ssh_connect_timeout = 5), the set's key becomes secrets/worker.key
 * (0600), and with `trustHostKeys` the workers' host keys are pre-trusted in secrets/known_hosts.
 */
export function connectBucket(root: string, set: WorkerSet, options: { settings?: Record<string, string>; trustHostKeys?: boolean } = {}): void {
  const conf = join(root, "maand.conf");
  // Tests connect directly unless they ask for the holder (ssh_persist): a holder would
  // outlive the test by a minute, holding sessions on workers the test already stopped.
  const settings: Record<string, string> = { ssh_user: '"root"', ssh_port: String(set.port), use_sudo: "false", ssh_persist: "0", ...options.settings };
  let text = readFileSync(conf, "utf8");
  for (const [key, value] of Object.entries(settings)) {
    const line = new RegExp(`^${key} = .*$`, "m");
    if (!line.test(text)) throw new Error(`maand.conf has no ${key} line to set`);
    text = text.replace(line, `${key} = ${value}`);
  }
  writeFileSync(conf, text);
  copyFileSync(set.keyPath, join(root, "secrets", "worker.key"));
  chmodSync(join(root, "secrets", "worker.key"), 0o600);
  if (options.trustHostKeys) copyFileSync(set.knownHostsFile, join(root, "secrets", "known_hosts"));
}
