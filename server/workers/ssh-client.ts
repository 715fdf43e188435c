import type { EventEmitter } from "node:events";

/**
 * What the transport needs of an SSH connection: ssh2's Client has it, and so does a
 * connection kept by the holder process (holder/client.ts), so the code above (channels,
 * timeouts, kills, sync) is the same for both.
 */
export interface SshClient {
  exec(command: string, callback: (err: Error | undefined, channel: ExecChannel) => void): unknown;
  end(): unknown;
  on(event: "error" | "close" | "end", listener: (...args: unknown[]) => void): unknown;
}

/** One session channel: ssh2's ClientChannel, or its relay through the holder. */
export interface ExecChannel extends EventEmitter {
  readonly stderr: EventEmitter;
  write(chunk: Buffer | string): boolean;
  end(chunk?: Buffer | string): unknown;
  close(): unknown;
}
