import type { ExecOptions, ExecResult } from "./channel.js";
import { WorkerConnection } from "./connection.js";
import { CommandInterrupted, WorkerUnreachable } from "./errors.js";
import { holderEnabled, HolderLink } from "./holder/client.js";
import { KnownHosts } from "./known-hosts.js";
import { readKeyFile, type TransportOptions } from "./options.js";
import { loadWorkerScripts, type WorkerScripts } from "./scripts.js";
import type { SshClient } from "./ssh-client.js";

export interface PoolStats {
  /** TCP connections opened during the pool's life (reconnects included). */
  connectionsOpened: number;
  /** Workers reached through a connection the holder kept from an earlier command (ssh_persist). */
  connectionsReused: number;
  /** Most connections open or opening at the same moment; never above maxWorkers. */
  peakConnections: number;
  openConnections: number;
  /** Most channels open at once on any one connection; never above maxChannelsPerWorker. */
  peakChannels: number;
}

interface Entry {
  ready: Promise<WorkerConnection>;
  conn?: WorkerConnection;
  /** Sessions using the connection now; an idle one may be closed to make room for another worker. */
  users: number;
  lastUsed: number;
}

/** Opens (or, through the holder, finds) the connection to one worker. */
type Connector = (host: string) => Promise<{ client: SshClient; reused: boolean }>;

/**
 * The SSH connections of one maand command: one per worker, opened on first use and reused by
 * every later command to it, at most `maxWorkers` open at once. When all slots are taken, a
 * new worker waits until some worker has no command running, whose connection is then closed
 * (least recently used first). `close()` ends them all. With `persistSec` the connections are
 * the holder's (holder/), which keeps them for the next command; ssh2 is then not even loaded.
 */
export class WorkerPool {
  readonly scripts: WorkerScripts;
  /** File lists syncWorker already validated this command: a job's list is shared by its workers. */
  readonly validatedFiles = new WeakSet<object>();
  private readonly connector: Connector;
  private readonly holder: HolderLink | undefined;
  private readonly entries = new Map<string, Entry>();
  private readonly waiters: Array<() => void> = [];
  private closed = false;
  private opened = 0;
  private reused = 0;
  private peak = 0;
  private peakChannelsSeen = 0;

  constructor(readonly options: TransportOptions, deps: { scripts?: WorkerScripts } = {}) {
    if (!Number.isInteger(options.maxWorkers) || options.maxWorkers < 1) throw new Error(`maxWorkers must be a positive integer, got ${options.maxWorkers}`);
    this.scripts = deps.scripts ?? loadWorkerScripts();
    if (holderEnabled(options)) {
      const link = (this.holder = new HolderLink(options));
      this.connector = (host) => link.open(host);
    } else {
      readKeyFile(options.keyPath);
      this.connector = directConnector(options);
    }
  }

  /** Runs one command on `host` (see ExecOptions for timeout, stdin, abort, sudo). */
  exec(host: string, command: string, o: ExecOptions = {}): Promise<ExecResult> {
    return this.session(host, (c) => c.exec(command, o), o.signal, command);
  }

  /**
   * Holds `host`'s connection for the duration of `fn`, so a sequence of round-trips (read
   * state, then send files) is never split by another worker taking the slot in between.
   */
  async session<T>(host: string, fn: (conn: WorkerConnection) => Promise<T>, signal?: AbortSignal, what = "connect"): Promise<T> {
    const entry = await this.acquire(host, signal, what);
    try {
      const conn = await raceAbort(entry.ready, signal, () => new CommandInterrupted(host, what));
      return await fn(conn);
    } finally {
      this.release(host, entry);
    }
  }

  stats(): PoolStats {
    for (const e of this.entries.values()) if (e.conn) this.peakChannelsSeen = Math.max(this.peakChannelsSeen, e.conn.channels.peak);
    return { connectionsOpened: this.opened, connectionsReused: this.reused, peakConnections: this.peak, openConnections: this.entries.size, peakChannels: this.peakChannelsSeen };
  }

  close(): void {
    this.stats();
    this.closed = true;
    for (const e of this.entries.values()) e.conn?.close();
    this.entries.clear();
    this.holder?.close();
    for (const w of this.waiters.splice(0)) w();
  }

  private async acquire(host: string, signal: AbortSignal | undefined, what: string): Promise<Entry> {
    for (;;) {
      if (this.closed) throw new WorkerUnreachable(host, "the connection pool was closed", "lost");
      if (signal?.aborted) throw new CommandInterrupted(host, what);
      const existing = this.entries.get(host);
      if (existing) {
        existing.users++;
        return existing;
      }
      if (this.entries.size < this.options.maxWorkers) return this.open(host);
      const idle = this.leastRecentlyUsedIdle();
      if (idle) {
        this.evict(idle[0], idle[1]);
        continue;
      }
      await this.waitForSlot(signal, () => new CommandInterrupted(host, what));
    }
  }

  private open(host: string): Entry {
    const entry: Entry = { ready: undefined as unknown as Promise<WorkerConnection>, users: 1, lastUsed: Date.now() };
    entry.ready = this.connector(host).then(
      ({ client, reused }) => {
        if (reused) this.reused++;
        else this.opened++;
        const conn = new WorkerConnection(host, client, this.options, this.scripts, () => this.forget(host, entry));
        entry.conn = conn;
        if (this.closed || this.entries.get(host) !== entry) conn.close();
        return conn;
      },
      (err: unknown) => {
        this.forget(host, entry);
        throw err;
      },
    );
    this.entries.set(host, entry);
    this.peak = Math.max(this.peak, this.entries.size);
    return entry;
  }

  private release(host: string, entry: Entry): void {
    entry.users--;
    entry.lastUsed = Date.now();
    if (entry.users === 0 && this.waiters.length > 0 && this.entries.get(host) === entry) this.evict(host, entry);
  }

  private leastRecentlyUsedIdle(): [string, Entry] | undefined {
    let best: [string, Entry] | undefined;
    for (const pair of this.entries) if (pair[1].users === 0 && pair[1].conn && (!best || pair[1].lastUsed < best[1].lastUsed)) best = pair;
    return best;
  }

  private evict(host: string, entry: Entry): void {
    if (entry.conn) this.stats();
    entry.conn?.close();
    this.forget(host, entry);
  }

  /** A connection closed, failed or was evicted: its slot goes to the next waiting worker. */
  private forget(host: string, entry: Entry): void {
    if (this.entries.get(host) !== entry) return;
    if (entry.conn) this.peakChannelsSeen = Math.max(this.peakChannelsSeen, entry.conn.channels.peak);
    this.entries.delete(host);
    this.waiters.shift()?.();
  }

  private waitForSlot(signal: AbortSignal | undefined, interrupted: () => Error): Promise<void> {
    return new Promise((resolve, reject) => {
      const wake = () => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      };
      const onAbort = () => {
        const i = this.waiters.indexOf(wake);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(interrupted());
      };
      this.waiters.push(wake);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }
}

/**
 * ssh2 straight from this process: loaded, and the key parsed and host keys read, on the
 * first connection only (a command that reaches no worker never pays for them).
 */
function directConnector(options: TransportOptions): Connector {
  let deps: Promise<{ open: (host: string) => Promise<SshClient> }> | undefined;
  return async (host) => {
    deps ??= import("./connect.js").then(({ connect, readPrivateKey }) => {
      const privateKey = readPrivateKey(options.keyPath);
      const knownHosts = KnownHosts.load(options.knownHostsFile);
      return { open: (h: string) => connect({ host: h, options, privateKey, knownHosts }) };
    });
    return { client: await (await deps).open(host), reused: false };
  };
}

function raceAbort<T>(p: Promise<T>, signal: AbortSignal | undefined, interrupted: () => Error): Promise<T> {
  if (!signal) return p;
  if (signal.aborted) return Promise.reject(interrupted());
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(interrupted());
    signal.addEventListener("abort", onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener("abort", onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(e);
      },
    );
  });
}
