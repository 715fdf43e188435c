import { spawn } from "node:child_process";
import { LineSplitter } from "./output.js";
import { signalGroup, terminateGroup } from "./process-group.js";

export type OutputStream = "stdout" | "stderr";

const MAX_TIMER_MS = 2 ** 31 - 1;

export interface HookProcessSpec {
  interpreter: string;
  /** Relative to cwd. */
  script: string;
  cwd: string;
  env: NodeJS.ProcessEnv;
  timeoutMs: number;
  /** Between SIGTERM and SIGKILL. */
  killGraceMs: number;
  signal?: AbortSignal;
  onSpawn?(pid: number): void;
  /**
   * The script's own process has exited; what it forked may still run until the group is gone.
   * Called before anything else reacts to the exit.
   */
  onExit?(): void;
  /**
   * A byte filter per output stream, applied before line splitting and sanitising (secret
   * masking: a secret may span lines or hold control characters). Identity when omitted.
   */
  filter?(): ByteFilter;
  onLines(stream: OutputStream, lines: string[]): void;
}

/** Bytes in, bytes out; may hold some back until the next chunk or end(). */
export interface ByteFilter {
  push(chunk: Buffer): Buffer;
  end(): Buffer;
}

export interface HookProcessResult {
  pid?: number;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  interrupted: boolean;
  /** The process could not be started. */
  spawnError?: string;
}

/**
 * Runs one hook script through bash in its own process group (SPEC §7.3), so that a timeout,
 * Ctrl-C, or the script's own exit can take every process it started down with it: nothing the
 * hook forked outlives its invocation. Resolves once the group is gone and all output is read.
 */
export function runHookProcess(spec: HookProcessSpec): Promise<HookProcessResult> {
  return new Promise((resolve) => {
    const result: HookProcessResult = { exitCode: null, signal: null, timedOut: false, interrupted: false };
    if (spec.signal?.aborted) {
      resolve({ ...result, interrupted: true });
      return;
    }
    // "$0" "$1": the paths never pass through shell parsing.
    const child = spawn("bash", ["-c", 'exec "$0" "$1"', spec.interpreter, spec.script], {
      cwd: spec.cwd,
      env: spec.env,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const pid = child.pid;
    result.pid = pid;
    const splitters = { stdout: new LineSplitter(), stderr: new LineSplitter() };
    const filters = { stdout: spec.filter?.(), stderr: spec.filter?.() };
    let termination: Promise<void> | undefined;
    const terminate = () => {
      if (pid !== undefined && !termination) termination = terminateGroup(pid, spec.killGraceMs);
    };
    let streamGuard: NodeJS.Timeout | undefined;

    // Beyond 2^31-1 ms Node fires a timer at once; manifests cannot ask for more, callers might.
    const timer = setTimeout(() => {
      result.timedOut = true;
      terminate();
    }, Math.min(spec.timeoutMs, MAX_TIMER_MS));
    const onAbort = () => {
      result.interrupted = true;
      terminate();
    };
    spec.signal?.addEventListener("abort", onAbort, { once: true });

    for (const name of ["stdout", "stderr"] as const) {
      child[name].on("data", (chunk: Buffer) => {
        const lines = splitters[name].push(filters[name]?.push(chunk) ?? chunk);
        if (lines.length) spec.onLines(name, lines);
      });
    }
    if (pid !== undefined) spec.onSpawn?.(pid);

    child.on("error", (err) => {
      result.spawnError = err.message;
    });
    child.on("exit", (code, signal) => {
      spec.onExit?.();
      result.exitCode = code;
      result.signal = signal;
      clearTimeout(timer);
      // Whatever the script left running in its group (daemons, `sleep &`) goes with it.
      if (pid !== undefined && signalGroup(pid, 0)) terminate();
      // A process outside the group may still hold our pipes: stop waiting for them eventually.
      streamGuard = setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
      }, spec.killGraceMs + 1000);
    });
    child.on("close", () => {
      clearTimeout(timer);
      clearTimeout(streamGuard);
      spec.signal?.removeEventListener("abort", onAbort);
      for (const name of ["stdout", "stderr"] as const) {
        const held = filters[name]?.end();
        const rest = [...(held?.length ? splitters[name].push(held) : []), ...splitters[name].end()];
        if (rest.length) spec.onLines(name, rest);
      }
      void (termination ?? Promise.resolve()).then(() => resolve(result));
    });
  });
}
