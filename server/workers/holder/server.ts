import { createHash } from "node:crypto";
import { createServer, type Server, type Socket } from "node:net";
import type { Client, ClientChannel } from "ssh2";
import { MaandError } from "../../errors.js";
import { connect, readPrivateKey } from "../connect.js";
import { KnownHosts } from "../known-hosts.js";
import { withDefaults } from "../options.js";
import { FRAME, FrameReader, frame, jsonFrame, toWire, type HolderRequest, type HolderTarget } from "./frames.js";

/**
 * The SSH connection holder: a background process that keeps maand's worker connections open
 * between commands (maand.conf ssh_persist, as OpenSSH's ControlPersist or Ansible's
 * persistent connections do), so a redeploy or `maand job status` right after a deploy skips
 * the TCP connect, key exchange and authentication on every worker. It only relays channels:
 * what runs, timeouts, kills and sudo stay the command's (connection.ts, channel.ts). It
 * leaves after `persistSec` without any command attached.
 */
interface Held {
  key: string;
  ready: Promise<Client>;
  client?: Client;
  channels: number;
  lastUsed: number;
}

export interface HolderState {
  server: Server;
  held: Map<string, Held>;
  streams: number;
  persistMs: number;
  idle?: NodeJS.Timeout;
  /** Called once when the holder has been idle for persistMs (closes everything). */
  onIdle: () => void;
}

const targetKey = (t: HolderTarget): string => JSON.stringify([t.host, t.port, t.user, t.keyPath, t.keyHash, t.knownHostsFile]);

export function createHolder(persistSec: number, onIdle: () => void): HolderState {
  const state: HolderState = { server: createServer(), held: new Map(), streams: 0, persistMs: persistSec * 1000, onIdle };
  state.server.on("connection", (sock) => serveStream(state, sock));
  armIdle(state);
  return state;
}

export function closeHolder(state: HolderState): void {
  clearTimeout(state.idle);
  state.server.close();
  for (const h of state.held.values()) h.client?.end();
  state.held.clear();
}

function armIdle(state: HolderState): void {
  clearTimeout(state.idle);
  state.idle = undefined;
  if (state.streams === 0) state.idle = setTimeout(state.onIdle, state.persistMs);
}

function serveStream(state: HolderState, sock: Socket): void {
  state.streams++;
  armIdle(state);
  let held: Held | undefined;
  let ch: ClientChannel | undefined;
  let chClosed = false;
  const send = (type: number, payload?: Buffer | string) => {
    if (sock.writable && !sock.write(frame(type, payload)) && ch) {
      // The command reads slower than the worker writes: hold the channel until it caught up.
      ch.pause();
      ch.stderr.pause();
      sock.once("drain", () => {
        ch?.resume();
        ch?.stderr.resume();
      });
    }
  };
  const fail = (err: unknown) => {
    if (sock.writable) sock.end(jsonFrame(FRAME.FAILED, toWire(err)));
  };
  sock.on("error", () => {});
  sock.on("close", () => {
    state.streams--;
    if (ch && !chClosed) ch.close();
    armIdle(state);
  });
  const reader = new FrameReader((type, payload) => {
    if (type === FRAME.REQUEST && !held) return void start(JSON.parse(payload.toString("utf8")) as HolderRequest);
    if (!ch) return void sock.destroy();
    if (type === FRAME.STDIN) {
      if (!ch.write(payload)) {
        sock.pause();
        ch.once("drain", () => sock.resume());
      }
    } else if (type === FRAME.STDIN_END) ch.end();
    else if (type === FRAME.CLOSE) ch.close();
    else sock.destroy();
  });
  sock.on("data", (d: Buffer) => {
    try {
      reader.push(d);
    } catch {
      sock.destroy();
    }
  });

  const start = (req: HolderRequest) => {
    state.persistMs = req.target.persistSec * 1000;
    // A lease only keeps the holder here while its command runs; it ends with the command.
    if (req.lease) return void sock.write(jsonFrame(FRAME.READY, { reused: true }));
    const existing = state.held.get(targetKey(req.target));
    const reused = existing !== undefined;
    held = existing ?? openHeld(state, req.target);
    const h = held;
    h.channels++;
    h.lastUsed = Date.now();
    h.ready.then(
      (client) => {
        if (req.remote === undefined) {
          h.channels--;
          return void sock.end(jsonFrame(FRAME.READY, { reused }));
        }
        if (!sock.writable) return void h.channels--;
        try {
          client.exec(req.remote, (err, channel) => {
            if (err) {
              h.channels--;
              return fail(err);
            }
            ch = channel;
            if (sock.destroyed) channel.close();
            channel.on("data", (d: Buffer) => send(FRAME.STDOUT, d));
            channel.stderr.on("data", (d: Buffer) => send(FRAME.STDERR, d));
            channel.on("error", () => {});
            channel.on("exit", (code: number | null, signal?: string) => send(FRAME.EXIT, JSON.stringify({ code: code ?? null, signal: signal ?? null })));
            channel.on("close", () => {
              chClosed = true;
              h.channels--;
              h.lastUsed = Date.now();
              sock.end();
            });
            send(FRAME.READY, JSON.stringify({ reused }));
          });
        } catch (err) {
          h.channels--;
          fail(err);
        }
      },
      (err: unknown) => {
        h.channels--;
        fail(err);
      },
    );
  };
}

/** Opens the target's connection, first closing idle ones beyond the command's bound. */
function openHeld(state: HolderState, t: HolderTarget): Held {
  for (;;) {
    if (state.held.size < t.maxWorkers) break;
    let lru: Held | undefined;
    for (const h of state.held.values()) if (h.client && h.channels === 0 && (!lru || h.lastUsed < lru.lastUsed)) lru = h;
    if (!lru) break;
    state.held.delete(lru.key);
    lru.client!.end();
  }
  const key = targetKey(t);
  const options = withDefaults({
    user: t.user,
    port: t.port,
    keyPath: t.keyPath,
    useSudo: false,
    knownHostsFile: t.knownHostsFile,
    connectTimeoutMs: t.connectTimeoutMs,
    keepaliveIntervalMs: t.keepaliveIntervalMs,
    keepaliveCountMax: t.keepaliveCountMax,
  });
  const h: Held = { key, channels: 0, lastUsed: Date.now(), ready: undefined as unknown as Promise<Client> };
  const forget = () => {
    if (state.held.get(key) === h) state.held.delete(key);
  };
  h.ready = (async () => {
    const privateKey = readPrivateKey(t.keyPath);
    // The file changed since the command read it: this is not the key the command meant.
    if (createHash("sha256").update(privateKey).digest("hex") !== t.keyHash) throw new MaandError(`the SSH key ${t.keyPath} changed while maand was connecting; run the command again`);
    // Read per connection: the operator may have removed a stale line since the last one.
    const client = await connect({ host: t.host, options, privateKey, knownHosts: KnownHosts.load(t.knownHostsFile) });
    h.client = client;
    client.on("error", forget);
    client.on("close", forget);
    client.on("end", forget);
    return client;
  })();
  h.ready.catch(forget);
  state.held.set(key, h);
  return h;
}
