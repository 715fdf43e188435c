import { MaandError } from "../errors.js";
import { CommandInterrupted, WorkerUnreachable } from "./errors.js";
import type { ExecChannel, SshClient } from "./ssh-client.js";

export interface ExecOptions {
  /** Bytes for the command's stdin; an async iterable is streamed with backpressure. EOF follows. */
  stdin?: Buffer | string | AsyncIterable<Buffer>;
  /** The remote command is killed (its whole process group) after this long; `timedOut` is set. */
  timeoutMs?: number;
  /** Aborting kills the remote command and rejects with CommandInterrupted. */
  signal?: AbortSignal;
  /** Environment for the command (set by `env` on the remote side, so sudo keeps it). */
  env?: Readonly<Record<string, string>>;
  /**
   * Run the command string as is (sudo -n sh -c when sudo applies) instead of under `timeout`:
   * for probes that must work on a worker lacking `timeout`. The timeout then only closes the
   * channel, which does not stop a remote process.
   */
  raw?: boolean;
  /** Run through sudo; defaults to the pool's use_sudo. */
  sudo?: boolean;
  /** Per stream; output beyond it is dropped (and `truncated` set) so a chatty command cannot exhaust memory. */
  maxOutputBytes?: number;
  /**
   * Sees each stdout chunk as it arrives (it is still collected): for a conversation on one
   * channel, where what is written to stdin depends on what the command printed first.
   */
  onStdout?: (chunk: Buffer) => void;
  /** Sees each stderr chunk as it arrives (it is still collected): live output for --verbose. */
  onStderr?: (chunk: Buffer) => void;
}

export interface ExecResult {
  host: string;
  command: string;
  /** null when the command was killed by a signal or abandoned at the deadline. */
  exitCode: number | null;
  signal: string | null;
  stdout: Buffer;
  stderr: Buffer;
  timedOut: boolean;
  truncated: boolean;
  durationMs: number;
}

export const DEFAULT_MAX_OUTPUT_BYTES = 64 * 1024 * 1024;
/** After exit-status, how long to wait for the channel to close: a backgrounded child holding stdout keeps it open forever. */
const EXIT_DRAIN_MS = 1_500;
/** Beyond the remote timeout and its SIGKILL grace, how long to wait before abandoning the channel. */
const DEADLINE_SLACK_MS = 5_000;
/** GNU timeout exits 124 when it sent the signal, 137 (128+KILL) when the command needed SIGKILL. */
export const TIMEOUT_EXIT_CODES: ReadonlySet<number> = new Set([124, 137]);

export interface ChannelJob {
  client: SshClient;
  host: string;
  /** What the caller asked for (for results and messages). */
  command: string;
  /** What is sent to sshd. */
  remote: string;
  options: ExecOptions;
  /** Set when the command runs under timeout with a marker; kills its process group. */
  kill?: () => Promise<void>;
  killAfterSec: number;
}

/**
 * sshd frees a closed session slot a moment after the close; a channel opened right then is
 * refused although maand is within MaxSessions. Such refusals are retried briefly.
 */
const OPEN_RETRY_DELAYS_MS = [5, 10, 20, 40, 80, 160, 320];

/** Runs one command on its own channel of an open connection. */
export async function runChannel(job: ChannelJob): Promise<ExecResult> {
  const { host, command, options: o } = job;
  if (o.signal?.aborted) throw new CommandInterrupted(host, command);
  // Timed from before the open: the remote command cannot have started earlier, so a remote
  // timeout always shows as durationMs >= timeoutMs here.
  const started = performance.now();
  // Listeners must be attached inside ssh2's callback: exit-status may arrive in the same
  // network read as the open confirmation, and an 'exit' emitted before a listener is lost.
  const running = await openChannel(job, (ch) => ({ result: collect(job, ch, started) }));
  return running.result;
}

async function openChannel<T>(job: ChannelJob, attach: (ch: ExecChannel) => T): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await new Promise<T>((resolve, reject) => {
        try {
          job.client.exec(job.remote, (e, ch) => (e ? reject(e) : resolve(attach(ch))));
        } catch (e) {
          reject(e);
        }
      });
    } catch (e) {
      const delay = OPEN_RETRY_DELAYS_MS[attempt];
      if (delay === undefined || !/open failed/i.test((e as Error).message)) throw openFailure(job.host, e as Error);
      await new Promise((r) => setTimeout(r, delay));
      if (job.options.signal?.aborted) throw new CommandInterrupted(job.host, job.command);
    }
  }
}

function collect(job: ChannelJob, ch: ExecChannel, started: number): Promise<ExecResult> {
  const { host, command, options: o } = job;
  const cap = o.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
  return new Promise((resolve, reject) => {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outBytes = 0;
    let errBytes = 0;
    let truncated = false;
    let exit: { code: number | null; signal: string | null } | undefined;
    let settled = false;
    let deadlineHit = false;
    const timers: NodeJS.Timeout[] = [];

    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      for (const t of timers) clearTimeout(t);
      o.signal?.removeEventListener("abort", onAbort);
      fn();
    };
    const result = (): ExecResult => {
      const durationMs = performance.now() - started;
      const code = exit?.code ?? null;
      const byRemoteTimeout = !o.raw && o.timeoutMs !== undefined && code !== null && TIMEOUT_EXIT_CODES.has(code) && durationMs >= o.timeoutMs;
      return {
        host,
        command,
        exitCode: deadlineHit ? null : code,
        signal: exit?.signal ?? null,
        stdout: Buffer.concat(out),
        stderr: Buffer.concat(err),
        timedOut: deadlineHit || byRemoteTimeout,
        truncated,
        durationMs,
      };
    };
    const onAbort = () => {
      settle(() => {
        const done = () => {
          ch.close();
          reject(new CommandInterrupted(host, command));
        };
        if (job.kill) job.kill().then(done, done);
        else done();
      });
    };
    if (o.signal?.aborted) return onAbort();
    o.signal?.addEventListener("abort", onAbort, { once: true });

    if (o.timeoutMs !== undefined) {
      const limit = o.raw ? o.timeoutMs : o.timeoutMs + job.killAfterSec * 1000 + DEADLINE_SLACK_MS;
      timers.push(
        setTimeout(() => {
          deadlineHit = true;
          void job.kill?.().catch(() => {});
          ch.close();
          settle(() => resolve(result()));
        }, limit),
      );
    }

    const keep = (chunks: Buffer[], size: number, d: Buffer): number => {
      const room = cap - size;
      if (room <= 0) {
        truncated = true;
        return size;
      }
      if (d.length > room) truncated = true;
      chunks.push(d.length > room ? d.subarray(0, room) : d);
      return size + Math.min(d.length, room);
    };
    ch.on("data", (d: Buffer) => {
      outBytes = keep(out, outBytes, d);
      o.onStdout?.(d);
    });
    ch.stderr.on("data", (d: Buffer) => {
      errBytes = keep(err, errBytes, d);
      o.onStderr?.(d);
    });
    ch.on("error", () => {}); // surfaced through 'close' without an exit status
    ch.on("exit", (code: number | null, signal?: string) => {
      exit = { code: code ?? null, signal: signal ?? null };
      timers.push(
        setTimeout(() => {
          ch.close();
          settle(() => resolve(result()));
        }, EXIT_DRAIN_MS),
      );
    });
    ch.on("close", () => {
      if (exit) settle(() => resolve(result()));
      else settle(() => reject(new WorkerUnreachable(host, `the connection was lost while running \`${command}\``, "lost")));
    });
    writeStdin(ch, o.stdin, () => settled).catch((e2: unknown) => {
      ch.close();
      settle(() => reject(e2));
    });
  });
}

function openFailure(host: string, e: Error): MaandError {
  // Through the holder, a connection that could not be (re)opened arrives already typed.
  if (e instanceof MaandError) return e;
  return /not connected|no response/i.test(e.message)
    ? new WorkerUnreachable(host, "the connection was lost", "lost", { cause: e })
    : new WorkerUnreachable(host, `the worker refused a new session (${e.message}); sshd's MaxSessions may be lower than maand's channels per worker`, "error", { cause: e });
}

async function writeStdin(ch: ExecChannel, stdin: ExecOptions["stdin"], stopped: () => boolean): Promise<void> {
  if (stdin === undefined) return void ch.end();
  if (typeof stdin === "string" || Buffer.isBuffer(stdin)) return void ch.end(stdin);
  let closed = false;
  ch.once("close", () => (closed = true));
  for await (const chunk of stdin) {
    if (closed || stopped()) return;
    if (!ch.write(chunk)) {
      await new Promise<void>((r) => {
        const go = () => {
          ch.off("drain", go);
          ch.off("close", go);
          r();
        };
        ch.on("drain", go);
        ch.on("close", go);
      });
    }
  }
  if (!closed) ch.end();
}
