import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { EventEmitter } from "node:events";
import { connect as connectSocket, type Socket } from "node:net";
import { join } from "node:path";
import { MaandError } from "../../errors.js";
import { packageRoot } from "../../hooks/package-files.js";
import { WorkerUnreachable } from "../errors.js";
import { readKeyFile, type TransportOptions } from "../options.js";
import type { ExecChannel, SshClient } from "../ssh-client.js";
import { FRAME, FrameReader, frame, fromWire, jsonFrame, type Exit, type HolderRequest, type HolderTarget, type Ready, type WireError } from "./frames.js";

/** Longest unix socket path Linux accepts (sun_path is 108 bytes with its NUL). */
export const MAX_SOCKET_PATH = 107;
const START_TIMEOUT_MS = 10_000;

/** Whether `options` ask for held connections and can have them (the socket path fits). */
export const holderEnabled = (o: TransportOptions): o is TransportOptions & { holderSocket: string } =>
  o.persistSec > 0 && o.holderSocket !== undefined && Buffer.byteLength(o.holderSocket) <= MAX_SOCKET_PATH;

/** No holder listens on the socket (none started yet, or it left after ssh_persist idle). */
class HolderNotRunning extends Error {}

interface StreamHandlers {
  ready(r: Ready): void;
  fail(err: Error): void;
  /** Frames after READY. */
  frame(type: number, payload: Buffer): void;
  /** The stream ended after READY. */
  closed(): void;
}

/** One stream to the holder: `req` first; READY or FAILED answers it (see frames.ts). */
function openStream(socketPath: string, req: HolderRequest, h: StreamHandlers): Socket {
  const sock = connectSocket(socketPath);
  let answered = false;
  const reader = new FrameReader((type, payload) => {
    if (answered) return h.frame(type, payload);
    answered = true;
    if (type === FRAME.READY) return h.ready(JSON.parse(payload.toString("utf8")) as Ready);
    sock.destroy();
    h.fail(type === FRAME.FAILED ? fromWire(JSON.parse(payload.toString("utf8")) as WireError) : new Error("the SSH connection holder answered out of turn"));
  });
  sock.on("data", (d: Buffer) => {
    try {
      reader.push(d);
    } catch (err) {
      sock.destroy(err as Error);
    }
  });
  sock.on("error", (err: NodeJS.ErrnoException) => {
    if (answered) return;
    answered = true;
    h.fail(err.code === "ENOENT" || err.code === "ECONNREFUSED" ? new HolderNotRunning(err.code) : err);
  });
  sock.on("close", () => {
    if (answered) return h.closed();
    answered = true;
    h.fail(new HolderNotRunning("closed"));
  });
  sock.write(jsonFrame(FRAME.REQUEST, req));
  return sock;
}

/**
 * A maand command's side of the holder (server.ts): connections are asked of it by target,
 * each command channel is one unix socket stream. The first use starts the holder if none
 * listens; a lease stream stays open for the whole command so that the holder cannot leave
 * while the command runs.
 */
export class HolderLink {
  private readonly target: Omit<HolderTarget, "host">;
  private starting: Promise<void> | undefined;
  private leased: Promise<unknown> | undefined;
  private lease: Socket | undefined;
  private closed = false;

  constructor(readonly options: TransportOptions & { holderSocket: string }) {
    this.target = {
      port: options.port,
      user: options.user,
      keyPath: options.keyPath,
      keyHash: createHash("sha256").update(readKeyFile(options.keyPath)).digest("hex"),
      knownHostsFile: options.knownHostsFile,
      connectTimeoutMs: options.connectTimeoutMs,
      keepaliveIntervalMs: options.keepaliveIntervalMs,
      keepaliveCountMax: options.keepaliveCountMax,
      maxWorkers: options.maxWorkers,
      persistSec: options.persistSec,
    };
  }

  /**
   * `host`'s held connection, which the holder opens when it has none. One round-trip when a
   * holder listens: the lease is taken beside it, not before it.
   */
  async open(host: string): Promise<{ client: SshClient; reused: boolean }> {
    let ready: Ready;
    try {
      ready = await this.connectOnly(host);
    } catch (err) {
      if (!(err instanceof HolderNotRunning)) throw err;
      await (this.starting ??= startHolder(this.options.holderSocket, this.options.persistSec));
      ready = await this.connectOnly(host).catch((e: Error) => Promise.reject(this.lost(host, e)));
    }
    this.leased ??= this.takeLease().then(
      (sock) => (this.closed ? sock.destroy() : (this.lease = sock)),
      () => undefined, // the holder is gone: the next stream says so
    );
    return { client: new HolderClient(this, host), reused: ready.reused };
  }

  targetFor(host: string): HolderTarget {
    return { ...this.target, host };
  }

  /** A stream that broke before its answer: the holder died under a running command. */
  lost(host: string, err: Error): Error {
    return err instanceof HolderNotRunning ? new WorkerUnreachable(host, `the SSH connection holder at ${this.options.holderSocket} went away`, "lost") : err;
  }

  close(): void {
    this.closed = true;
    this.lease?.destroy();
    this.lease = undefined;
  }

  private connectOnly(host: string): Promise<Ready> {
    return new Promise<Ready>((resolve, reject) => {
      openStream(this.options.holderSocket, { target: this.targetFor(host) }, { ready: resolve, fail: reject, frame: () => {}, closed: () => {} });
    });
  }

  private takeLease(): Promise<Socket> {
    return new Promise((resolve, reject) => {
      const sock = openStream(
        this.options.holderSocket,
        { target: this.targetFor(""), lease: true },
        {
          ready: () => {
            // Held, the lease must not keep the command's process alive; it ends with it at the latest.
            sock.unref();
            resolve(sock);
          },
          fail: reject,
          frame: () => {},
          closed: () => {},
        },
      );
    });
  }
}

/** ssh2's Client as far as the transport uses it, each exec a stream through the holder. */
class HolderClient implements SshClient {
  constructor(
    private readonly link: HolderLink,
    private readonly host: string,
  ) {}

  exec(remote: string, callback: (err: Error | undefined, channel: ExecChannel) => void): void {
    let ch: HolderChannel | undefined;
    const sock = openStream(
      this.link.options.holderSocket,
      { target: this.link.targetFor(this.host), remote },
      {
        ready: () => callback(undefined, (ch = new HolderChannel(sock))),
        fail: (err) => callback(this.link.lost(this.host, err), undefined as unknown as ExecChannel),
        frame: (type, payload) => ch?.onFrame(type, payload),
        closed: () => ch?.emit("close"),
      },
    );
  }

  /** The connection stays with the holder: that is the point. */
  end(): void {}

  on(): this {
    return this;
  }
}

/** ssh2's ClientChannel as channel.ts uses it, relayed by the holder. */
class HolderChannel extends EventEmitter implements ExecChannel {
  readonly stderr = new EventEmitter();

  constructor(private readonly sock: Socket) {
    super();
    sock.on("drain", () => this.emit("drain"));
  }

  onFrame(type: number, payload: Buffer): void {
    if (type === FRAME.STDOUT) this.emit("data", payload);
    else if (type === FRAME.STDERR) this.stderr.emit("data", payload);
    else if (type === FRAME.EXIT) {
      const exit = JSON.parse(payload.toString("utf8")) as Exit;
      this.emit("exit", exit.code, exit.signal ?? undefined);
    }
  }

  write(chunk: Buffer | string): boolean {
    return this.sock.writable ? this.sock.write(frame(FRAME.STDIN, chunk)) : false;
  }

  end(chunk?: Buffer | string): this {
    if (chunk !== undefined) this.write(chunk);
    if (this.sock.writable) this.sock.write(frame(FRAME.STDIN_END));
    return this;
  }

  close(): this {
    if (this.sock.writable) this.sock.end(frame(FRAME.CLOSE));
    return this;
  }
}

/** Starts the holder detached (its own session: Ctrl-C in the terminal is the command's, not its) and waits until it listens. */
function startHolder(socketPath: string, persistSec: number): Promise<void> {
  const main = join(packageRoot(), "dist", "server", "workers", "holder", "main.js");
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [main, socketPath, String(persistSec)], { detached: true, stdio: ["ignore", "pipe", "ignore"] });
    let out = "";
    const done = (e?: Error) => {
      clearTimeout(timer);
      child.stdout.destroy();
      child.unref();
      if (e) reject(e);
      else resolve();
    };
    const failed = (why: string) =>
      done(new MaandError(`cannot start the SSH connection holder (${why}); set ssh_persist = 0 in maand.conf to connect to the workers directly`));
    const timer = setTimeout(() => failed(`no answer within ${START_TIMEOUT_MS} ms`), START_TIMEOUT_MS);
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.includes("ready\n")) done();
    });
    child.on("error", (e) => failed(e.message));
    child.on("exit", (code) => {
      if (!out.includes("ready\n")) failed(`it exited with ${code}${out.trim() ? `: ${out.trim().slice(-300)}` : ""}`);
    });
  });
}
