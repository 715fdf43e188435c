import { MaandError } from "../../errors.js";
import { HostKeyChanged, WorkerUnreachable, type UnreachableKind } from "../errors.js";

/**
 * The wire between a maand command and the holder (holder/server.ts): one unix socket stream
 * per SSH channel, carrying frames of [type: 1 byte][length: u32 BE][payload]. The command
 * sends REQUEST first, then STDIN / STDIN_END / CLOSE; the holder answers READY (or FAILED,
 * then ends the stream), then STDOUT / STDERR / EXIT, and ends the stream when the channel
 * closed. A request without `remote` only makes sure the connection is up.
 */
export const FRAME = {
  REQUEST: 0x71, // q: JSON HolderRequest
  STDIN: 0x69, // i
  STDIN_END: 0x65, // e
  CLOSE: 0x6b, // k: close the channel
  READY: 0x72, // r: JSON { reused: boolean }
  FAILED: 0x66, // f: JSON WireError
  STDOUT: 0x6f, // o
  STDERR: 0x78, // x
  EXIT: 0x74, // t: JSON { code, signal }
} as const;

/** Which connection to use (or open): one per distinct target, shared by every command. */
export interface HolderTarget {
  host: string;
  port: number;
  user: string;
  keyPath: string;
  /** sha256 of the key file as the command read it: a rotated key means another connection. */
  keyHash: string;
  knownHostsFile: string;
  connectTimeoutMs: number;
  keepaliveIntervalMs: number;
  keepaliveCountMax: number;
  /** The command's bound on workers connected at once; the holder keeps no more open than that. */
  maxWorkers: number;
  /** How long the holder stays after its last stream ended (maand.conf ssh_persist). */
  persistSec: number;
}

export interface HolderRequest {
  target: HolderTarget;
  /** The command line for sshd; absent: only connect. */
  remote?: string;
  /**
   * Keep this stream open after READY, for the whole maand command: the holder never leaves
   * while a command that uses it runs (a hook may run for longer than ssh_persist).
   */
  lease?: boolean;
}

export interface Ready {
  /** The connection existed before this request. */
  reused: boolean;
}

export interface Exit {
  code: number | null;
  signal: string | null;
}

/** An error crossing the socket: rebuilt as the same class on the command's side. */
export type WireError =
  | { type: "unreachable"; host: string; reason: string; kind: UnreachableKind }
  | { type: "host-key"; host: string; known: string; presented: string; file: string }
  | { type: "maand"; message: string; exitCode: number }
  /** ssh2's refusal of a channel, kept as its text (channel.ts reads it to decide on a retry). */
  | { type: "open"; message: string };

export function toWire(err: unknown): WireError {
  if (err instanceof HostKeyChanged) return { type: "host-key", host: err.host, known: err.knownFingerprint, presented: err.presentedFingerprint, file: err.knownHostsFile };
  if (err instanceof WorkerUnreachable) return { type: "unreachable", host: err.host, reason: err.reason, kind: err.kind };
  if (err instanceof MaandError) return { type: "maand", message: err.message, exitCode: err.exitCode };
  return { type: "open", message: err instanceof Error ? err.message : String(err) };
}

export function fromWire(w: WireError): Error {
  switch (w.type) {
    case "host-key":
      return new HostKeyChanged(w.host, w.known, w.presented, w.file);
    case "unreachable":
      return new WorkerUnreachable(w.host, w.reason, w.kind);
    case "maand":
      return new MaandError(w.message, w.exitCode);
    case "open":
      return new Error(w.message);
  }
}

export function frame(type: number, payload: Buffer | string = Buffer.alloc(0)): Buffer {
  const body = typeof payload === "string" ? Buffer.from(payload) : payload;
  const head = Buffer.allocUnsafe(5);
  head[0] = type;
  head.writeUInt32BE(body.length, 1);
  return Buffer.concat([head, body]);
}

export const jsonFrame = (type: number, value: unknown): Buffer => frame(type, JSON.stringify(value));

/** Largest frame either side accepts: a stream that announces more is broken, not big. */
const MAX_FRAME = 64 * 1024 * 1024;

/** Splits a byte stream into frames; `onFrame` sees each whole one, in order. */
export class FrameReader {
  private pending: Buffer = Buffer.alloc(0);

  constructor(private readonly onFrame: (type: number, payload: Buffer) => void) {}

  push(chunk: Buffer): void {
    let buf = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    while (buf.length >= 5) {
      const len = buf.readUInt32BE(1);
      if (len > MAX_FRAME) throw new Error(`holder stream: a frame of ${len} bytes`);
      if (buf.length < 5 + len) break;
      const type = buf[0]!;
      const payload = buf.subarray(5, 5 + len);
      buf = buf.subarray(5 + len);
      this.onFrame(type, payload);
    }
    this.pending = buf;
  }
}
