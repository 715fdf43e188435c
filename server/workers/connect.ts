import ssh2, { Client, type ConnectConfig } from "ssh2";
import { MaandError } from "../errors.js";
import { HostKeyChanged, WorkerUnreachable } from "./errors.js";
import type { KnownHosts } from "./known-hosts.js";
import { readKeyFile, type TransportOptions } from "./options.js";

export interface ConnectInput {
  host: string;
  options: TransportOptions;
  privateKey: Buffer;
  knownHosts: KnownHosts;
  signal?: AbortSignal;
}

/**
 * Opens one authenticated SSH connection. Resolves with the ready client or rejects with a
 * WorkerUnreachable naming the host and what went wrong; never hangs past connectTimeoutMs.
 */
export function connect({ host, options, privateKey, knownHosts, signal }: ConnectInput): Promise<Client> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    let hostKeyProblem: WorkerUnreachable | undefined;
    let settled = false;
    const finish = (err?: unknown) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      client.removeListener("ready", onReady);
      if (err === undefined) return resolve(client);
      client.removeAllListeners("error");
      client.on("error", () => {}); // late errors of a connection we gave up on
      client.destroy();
      reject(err);
    };
    const onReady = () => finish();
    const onAbort = () => finish(signal!.reason);
    // ssh2's readyTimeout does not cover a TCP connect that never completes on every platform;
    // one timer of our own bounds the whole attempt.
    const timer = setTimeout(
      () => finish(new WorkerUnreachable(host, `no SSH handshake within ${options.connectTimeoutMs} ms (host down, firewalled or overloaded)`, "timeout")),
      options.connectTimeoutMs,
    );
    if (signal?.aborted) return onAbort();
    signal?.addEventListener("abort", onAbort, { once: true });

    client.once("ready", onReady);
    client.on("error", (err: Error & { level?: string; code?: string }) => finish(hostKeyProblem ?? describe(host, options, err)));
    client.once("close", () => finish(hostKeyProblem ?? new WorkerUnreachable(host, "the connection was closed during the SSH handshake", "lost")));

    const algorithms = knownHosts.algorithmsFor(host, options.port);
    const config: ConnectConfig = {
      host,
      port: options.port,
      username: options.user,
      privateKey,
      readyTimeout: options.connectTimeoutMs,
      ...(options.debug ? { debug: (m: string) => options.debug!(`${host}: ${m}`) } : {}),
      keepaliveInterval: options.keepaliveIntervalMs,
      keepaliveCountMax: options.keepaliveCountMax,
      ...(algorithms ? { algorithms: { serverHostKey: algorithms } } : {}),
      hostVerifier: (key: Buffer): boolean => {
        const verdict = knownHosts.verify(host, options.port, key);
        if (verdict.status === "known") return true;
        if (verdict.status === "unknown") {
          knownHosts.add(host, options.port, key);
          return true;
        }
        hostKeyProblem =
          verdict.status === "changed"
            ? new HostKeyChanged(host, verdict.knownFingerprint, verdict.presentedFingerprint, knownHosts.file)
            : new WorkerUnreachable(host, `host key ${verdict.presentedFingerprint} is marked @revoked in ${knownHosts.file}`, "host-key");
        return false;
      },
    };
    try {
      client.connect(config);
      // ssh2 leaves Nagle's algorithm on. Every session is a few small request/reply packets,
      // and with Nagle each reply after the first waits for the worker's delayed ACK (about
      // 40 ms on Linux): measured on loopback, a handshake took 78 ms instead of 50 and a
      // session on an open connection 44 ms instead of 4.
      client.setNoDelay(true);
    } catch (err) {
      // ssh2 throws synchronously for a key it cannot parse.
      finish(new WorkerUnreachable(host, `cannot use the SSH key ${options.keyPath}: ${(err as Error).message}`, "auth", { cause: err }));
    }
  });
}

function describe(host: string, o: TransportOptions, err: Error & { level?: string; code?: string }): WorkerUnreachable {
  const at = `${host}:${o.port}`;
  switch (err.code) {
    case "ECONNREFUSED":
      return new WorkerUnreachable(host, `connection refused on ${at} (no sshd listening on port ${o.port})`, "refused", { cause: err });
    case "EHOSTUNREACH":
    case "ENETUNREACH":
      return new WorkerUnreachable(host, `no route to ${at}`, "refused", { cause: err });
    case "ECONNRESET":
    case "EPIPE":
      return new WorkerUnreachable(host, `connection reset by ${at} during the SSH handshake`, "lost", { cause: err });
    case "ETIMEDOUT":
      return new WorkerUnreachable(host, `TCP connect to ${at} timed out`, "timeout", { cause: err });
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return new WorkerUnreachable(host, `cannot resolve ${host} (${err.code})`, "dns", { cause: err });
  }
  if (err.level === "client-authentication")
    return new WorkerUnreachable(host, `user ${o.user} was refused with the key ${o.keyPath} (is its public key in the worker's authorized_keys?)`, "auth", { cause: err });
  if (err.level === "client-timeout") return new WorkerUnreachable(host, `no SSH handshake within ${o.connectTimeoutMs} ms`, "timeout", { cause: err });
  return new WorkerUnreachable(host, err.message, "error", { cause: err });
}

/**
 * Read and parsed once per pool: a missing, unreadable, passphrase-protected or malformed key is
 * the operator's to fix, reported once before any worker is contacted.
 */
export function readPrivateKey(keyPath: string): Buffer {
  const key = readKeyFile(keyPath);
  const parsed = ssh2.utils.parseKey(key);
  if (parsed instanceof Error) throw new MaandError(`cannot use the SSH key ${keyPath}: ${parsed.message}; expected an unencrypted private key (OpenSSH or PEM format)`, 1, { cause: parsed });
  return key;
}
