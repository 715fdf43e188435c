import { readFileSync } from "node:fs";
import ssh2 from "ssh2";
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
} as const;

export const knownHostsPath = (paths: BucketPaths): string => paths.knownHosts;

type TransportConf = Pick<MaandConf, "ssh_user" | "ssh_key" | "ssh_port" | "use_sudo"> & Partial<Pick<MaandConf, "ssh_max_workers" | "ssh_connect_timeout">>;

/** Transport options from maand.conf: key `secrets/<ssh_key>`, host keys in `secrets/known_hosts`. */
export function transportOptions(paths: BucketPaths, conf: TransportConf, overrides: Partial<TransportOptions> = {}): TransportOptions {
  return {
    ...TRANSPORT_DEFAULTS,
    ...(conf.ssh_max_workers !== undefined ? { maxWorkers: conf.ssh_max_workers } : {}),
    ...(conf.ssh_connect_timeout !== undefined ? { connectTimeoutMs: conf.ssh_connect_timeout * 1000 } : {}),
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

/**
 * Read and parsed once per pool: a missing, unreadable, passphrase-protected or malformed key is
 * the operator's to fix, reported once before any worker is contacted.
 */
export function readPrivateKey(keyPath: string): Buffer {
  let key: Buffer;
  try {
    key = readFileSync(keyPath);
  } catch (err) {
    throw new MaandError(`cannot read the SSH key ${keyPath}: ${(err as NodeJS.ErrnoException).code ?? String(err)}; put the workers' private key there (maand.conf ssh_key)`, 1, { cause: err });
  }
  const parsed = ssh2.utils.parseKey(key);
  if (parsed instanceof Error) throw new MaandError(`cannot use the SSH key ${keyPath}: ${parsed.message}; expected an unencrypted private key (OpenSSH or PEM format)`, 1, { cause: parsed });
  return key;
}
