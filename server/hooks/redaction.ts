import { listJobs } from "../store/catalog.js";
import type { Db } from "../store/db.js";
import { isEncryptedAtRest, SECRET_NAMESPACE_PREFIX, type KvReader, type KvStore } from "../store/kv.js";
import { KvSession } from "../store/kv-session.js";

const jobSecrets = (job: string): string => `${SECRET_NAMESPACE_PREFIX}job/${job}`;

/**
 * Replaces known secret values (KV secrets of the bucket's jobs, API tokens) in hook output
 * before it reaches a log, the console or an error message: a hook that prints a secret it
 * read must not leak it into logs/.
 */
export class Redactor {
  private readonly secrets = new Set<string>();
  /** Shorter values would blank out ordinary words. */
  static readonly MIN_LENGTH = 4;

  add(value: string | undefined): void {
    if (value && value.length >= Redactor.MIN_LENGTH) this.secrets.add(value);
  }

  /** Adds the live secrets of `jobs` (every job of the catalog when omitted). */
  addJobSecrets(db: Db, kv: KvReader, jobs: readonly string[] = listJobs(db).map((j) => j.name)): void {
    for (const job of jobs) {
      const ns = jobSecrets(job);
      for (const key of kv.keys(ns)) {
        try {
          this.add(kv.get(ns, key));
        } catch {
          // Undecryptable (kv.key missing or replaced): no hook can read it either, so it cannot be printed.
        }
      }
    }
  }

  redact(text: string): string {
    let out = text;
    for (const s of this.secrets) if (out.includes(s)) out = out.split(s).join("***");
    return out;
  }
}

/**
 * The session's KV layer, telling the redactor about every secret a hook writes: a hook that
 * generates a password and prints it in the same breath must not leak it either.
 */
export class RedactingKvSession extends KvSession {
  constructor(store: KvStore, private readonly redactor: Redactor) {
    super(store);
  }

  override put(namespace: string, key: string, value: string, ttl = 0): void {
    if (isEncryptedAtRest(namespace, key)) this.redactor.add(value);
    super.put(namespace, key, value, ttl);
  }
}
