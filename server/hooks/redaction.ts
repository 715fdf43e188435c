import { listAllocations, listJobs } from "../store/catalog.js";
import type { Db } from "../store/db.js";
import { type KvReader, type KvStore } from "../store/kv.js";
import { KvSession } from "../store/kv-session.js";
import { SecretPatterns } from "./secret-patterns.js";
import { mask, StreamMasker } from "./stream-mask.js";
import { NS, isCertPrivateKey, isEncryptedAtRest } from "../kv/namespaces.js";

/**
 * Secrets shorter than this are not masked in hook output. Masking replaces every occurrence
 * of the value, and values this short are ordinary words and numbers ("enabled", "1234567",
 * "2024-01"): masking them would blank out logs everywhere while protecting little, since a
 * secret that short falls to guessing anyway. A hook that stores one gets a warning instead.
 * Lines of a multi-line secret (a PEM key's base64 lines) are masked on their own when they
 * are this long too.
 */
export const MIN_SECRET_LENGTH = 8;

/** PEM armor ("-----BEGIN PRIVATE KEY-----") is not secret, and masking it would hide what a certificate is. */
const PEM_ARMOR = /^-----(BEGIN|END) [A-Z0-9 ]+-----$/;

/** A secret a hook stored that is too short to be masked (its value is never kept here). */
export interface UnmaskableSecret {
  namespace: string;
  key: string;
  length: number;
}

/**
 * Known secret values (KV secrets of the bucket's jobs, the private keys staged for hooks, API
 * tokens), masked in hook output before it reaches a log, the console or an error message: a
 * hook that prints a secret it read must not leak it into logs/. Masking works on each output
 * stream's bytes (see stream()), before they are split into lines.
 */
export class Redactor {
  private readonly patterns = new SecretPatterns();
  private readonly listeners = new Set<(s: UnmaskableSecret) => void>();

  /**
   * Registers a value: whole, trimmed, and each of its lines (CRLF, LF or CR separated,
   * trimmed), so a secret printed line by line, indented or without its trailing "\r" is masked
   * too. Returns false when the value is too short to be masked at all.
   */
  add(value: string | undefined): boolean {
    if (!value) return true;
    const parts = new Set([value, value.trim(), ...value.split(/\r\n|\r|\n/).map((l) => l.trim())]);
    for (const part of parts) if (part.length >= MIN_SECRET_LENGTH && !PEM_ARMOR.test(part)) this.patterns.add(part);
    return value.length >= MIN_SECRET_LENGTH;
  }

  /** A secret written by a hook: registered, and reported to onUnmaskable listeners when too short. */
  addWritten(namespace: string, key: string, value: string): void {
    if (this.add(value)) return;
    for (const l of this.listeners) l({ namespace, key, length: value.length });
  }

  /** Called for every secret a hook stores that is too short to be masked. Returns an unsubscribe function. */
  onUnmaskable(listener: (s: UnmaskableSecret) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Adds the live secrets of `jobs` (every job of the catalog when omitted). */
  addJobSecrets(db: Db, kv: KvReader, jobs: readonly string[] = listJobs(db).map((j) => j.name)): void {
    for (const job of jobs) {
      const ns = NS.jobSecrets(job);
      for (const key of kv.keys(ns)) this.addReadable(kv, ns, key);
    }
  }

  /** Adds the certificates' private keys of every allocation of `jobs`: staging puts them in certs/. */
  addCertKeys(db: Db, kv: KvReader, jobs: readonly string[]): void {
    for (const a of listAllocations(db, { jobs: [...jobs] })) {
      const ns = NS.allocation(a.job, a.worker_ip);
      for (const key of kv.keys(ns)) if (isCertPrivateKey(ns, key)) this.addReadable(kv, ns, key);
    }
  }

  /** A masker for one output stream; it sees secrets added while the stream runs. */
  stream(): StreamMasker {
    return new StreamMasker(this.patterns);
  }

  /** One complete text, masked. */
  redact(text: string): string {
    return mask(this.patterns, Buffer.from(text, "utf8"), true).out.toString("utf8");
  }

  private addReadable(kv: KvReader, ns: string, key: string): void {
    try {
      this.add(kv.get(ns, key));
    } catch {
      // Undecryptable (kv.key missing or replaced): no hook can read it either, so it cannot be printed.
    }
  }
}

/**
 * A redactor knowing every job secret of the bucket and the certificate private keys of `jobs`'
 * allocations: what deploy and job control mask in make output, tails and errors (a Makefile
 * that prints a rendered config would otherwise put its secrets in events.jsonl).
 */
export function bucketSecretsRedactor(db: Db, kv: KvReader, certJobs: readonly string[]): Redactor {
  const r = new Redactor();
  r.addJobSecrets(db, kv);
  r.addCertKeys(db, kv, certJobs);
  return r;
}

/**
 * The session's KV layer, telling the redactor about every secret a hook writes: a hook that
 * generates a password and prints it in the same breath must not leak it either.
 */
export class RedactingKvSession extends KvSession {
  constructor(store: KvStore, private readonly redactor: Redactor) {
    super(store);
  }

  override put(namespace: string, key: string, value: string, ttl = 0, writer?: string): void {
    if (isEncryptedAtRest(namespace, key)) this.redactor.addWritten(namespace, key, value);
    super.put(namespace, key, value, ttl, writer);
  }
}
