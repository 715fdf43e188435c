import { readFileSync } from "node:fs";
import { join } from "node:path";
import { MaandError } from "../errors.js";
import type { MaandConf } from "../bucket/conf.js";
import type { BucketPaths } from "../bucket/paths.js";

/** How maand reaches every worker of one command. */
export interface TransportOptions {
  user: string;
  port: number;
  /** Private key file (OpenSSH or PEM; ed25519, ecdsa or rsa), not encrypted. */
  keyPath: string;
  useSudo: boolean;
  /** known_hosts file: keys recorded on first contact, a changed key refused. */
  knownHostsFile: string;
  /** TCP connect + SSH handshake + authentication. */
  connectTimeoutMs: number;
  /** Workers with an open (or opening) connection at once; more wait for a free slot. */
  maxWorkers: number;
  /** Channels (commands) open at once on one connection; OpenSSH refuses more than MaxSessions (10). */
  maxChannelsPerWorker: number;
  /** After a timeout's SIGTERM, seconds until the remote command gets SIGKILL. */
  killAfterSec: number;
  /** A connection silent this long (keepalives unanswered) is declared lost. */
  keepaliveIntervalMs: number;
  keepaliveCountMax: number;
  /**
   * Seconds the SSH connection holder keeps connections open after the last command that used
   * them (maand.conf ssh_persist); 0 connects directly for this command only.
   */
  persistSec: number;
  /** The holder's unix socket (secrets/ssh-holder.sock). */
  holderSocket?: string;
  /** Receives ssh2's protocol trace, one line per message, prefixed with the worker. */
  debug?: (line: string) => void;
}

export const TRANSPORT_DEFAULTS = {
  connectTimeoutMs: 10_000,
  maxWorkers: 32,
  maxChannelsPerWorker: 8,
  killAfterSec: 10,
  keepaliveIntervalMs: 5_000,
  keepaliveCountMax: 3,
  persistSec: 0,
} as const;

export const knownHostsPath = (paths: BucketPaths): string => paths.knownHosts;

type TransportConf = Pick<MaandConf, "ssh_user" | "ssh_key" | "ssh_port" | "use_sudo"> & Partial<Pick<MaandConf, "ssh_max_workers" | "ssh_connect_timeout" | "ssh_persist">>;

/** Transport options from maand.conf: key `secrets/<ssh_key>`, host keys in `secrets/known_hosts`. */
export function transportOptions(paths: BucketPaths, conf: TransportConf, overrides: Partial<TransportOptions> = {}): TransportOptions {
  return {
    ...TRANSPORT_DEFAULTS,
    ...(conf.ssh_max_workers !== undefined ? { maxWorkers: conf.ssh_max_workers } : {}),
    ...(conf.ssh_connect_timeout !== undefined ? { connectTimeoutMs: conf.ssh_connect_timeout * 1000 } : {}),
    ...(conf.ssh_persist !== undefined ? { persistSec: conf.ssh_persist } : {}),
    holderSocket: join(paths.secrets, "ssh-holder.sock"),
    user: conf.ssh_user,
    port: conf.ssh_port,
    keyPath: join(paths.secrets, conf.ssh_key),
    useSudo: conf.use_sudo,
    knownHostsFile: knownHostsPath(paths),
    ...overrides,
  };
}

export function withDefaults(o: Partial<TransportOptions> & Pick<TransportOptions, "user" | "port" | "keyPath" | "useSudo" | "knownHostsFile">): TransportOptions {
  return { ...TRANSPORT_DEFAULTS, ...o };
}

/** The key file's bytes; a missing or unreadable one is the operator's to fix, named with its path. */
export function readKeyFile(keyPath: string): Buffer {
  try {
    return readFileSync(keyPath);
  } catch (err) {
    throw new MaandError(`cannot read the SSH key ${keyPath}: ${(err as NodeJS.ErrnoException).code ?? String(err)}; put the workers' private key there (maand.conf ssh_key)`, 1, { cause: err });
  }
}
