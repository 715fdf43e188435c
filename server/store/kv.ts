import type { Db } from "./db.js";
import type { Clock } from "./clock.js";
import type { SecretCipher } from "./secrets-cipher.js";
import { isEncryptedAtRest } from "../kv/namespaces.js";

/** The latest version of a key as stored (value still encrypted when `encrypted` is 1). */
export interface KvRow {
  namespace: string;
  key: string;
  version: number;
  value: string;
  ttl: number;
  created_at: number;
  deleted: number;
  encrypted: number;
}

export interface KvReader {
  /** Plaintext value, or undefined when absent, deleted or expired. */
  get(namespace: string, key: string): string | undefined;
  /** Live keys of a namespace, sorted. */
  keys(namespace: string): string[];
}

export interface KvWriter {
  put(namespace: string, key: string, value: string, ttl?: number): void;
  /** Writes a tombstone; returns false when there was nothing live to delete. */
  delete(namespace: string, key: string): boolean;
}

/** One write, as the session layer and build hand them to the store. */
export interface KvWrite {
  namespace: string;
  key: string;
  value: string;
  ttl: number;
  deleted: boolean;
}

export function isExpired(row: Pick<KvRow, "ttl" | "created_at">, now: number): boolean {
  return row.ttl > 0 && row.created_at + row.ttl * 1000 <= now;
}

/**
 * Versioned KV rows in maand.db. Every write is a new version; a delete is a tombstone version;
 * an expired TTL key reads as absent at once. Values isEncryptedAtRest names are encrypted here,
 * on the way in, so no caller can store a secret in plaintext by mistake.
 */
export class KvStore implements KvReader, KvWriter {
  private readonly latestStmt;
  private readonly latestNsStmt;
  private readonly insertStmt;

  constructor(
    readonly db: Db,
    private readonly cipher: () => SecretCipher,
    private readonly clock: Clock,
  ) {
    this.latestStmt = db.prepare<[string, string], KvRow>(
      "SELECT * FROM kv WHERE namespace = ? AND key = ? ORDER BY version DESC LIMIT 1",
    );
    this.latestNsStmt = db.prepare<[string], KvRow>(
      `SELECT k.* FROM kv k WHERE k.namespace = ?
         AND k.version = (SELECT MAX(version) FROM kv WHERE namespace = k.namespace AND key = k.key)
       ORDER BY k.key`,
    );
    this.insertStmt = db.prepare(
      "INSERT INTO kv (namespace, key, version, value, ttl, created_at, deleted, encrypted) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    );
  }

  now(): number {
    return this.clock.now();
  }

  /** Latest row including tombstones and expired rows; undefined when the key never existed. */
  latest(namespace: string, key: string): KvRow | undefined {
    return this.latestStmt.get(namespace, key);
  }

  get(namespace: string, key: string): string | undefined {
    const row = this.latest(namespace, key);
    if (!row || row.deleted || isExpired(row, this.clock.now())) return undefined;
    return this.decode(row);
  }

  keys(namespace: string): string[] {
    const now = this.clock.now();
    return this.latestNsStmt
      .all(namespace)
      .filter((r) => !r.deleted && !isExpired(r, now))
      .map((r) => r.key);
  }

  /** Live rows of a namespace with plaintext values (encrypted ones decrypted). */
  entries(namespace: string): Array<{ key: string; value: string }> {
    const now = this.clock.now();
    return this.latestNsStmt
      .all(namespace)
      .filter((r) => !r.deleted && !isExpired(r, now))
      .map((r) => ({ key: r.key, value: this.decode(r) }));
  }

  put(namespace: string, key: string, value: string, ttl = 0): void {
    this.apply([{ namespace, key, value, ttl, deleted: false }]);
  }

  delete(namespace: string, key: string): boolean {
    if (this.get(namespace, key) === undefined) return false;
    this.apply([{ namespace, key, value: "", ttl: 0, deleted: true }]);
    return true;
  }

  /** Writes a batch in one transaction (joins the caller's transaction when there is one). */
  apply(writes: Iterable<KvWrite>): number {
    const now = this.clock.now();
    let count = 0;
    this.db.transaction(() => {
      for (const w of writes) {
        const prev = this.latest(w.namespace, w.key);
        this.insertRow(w, (prev?.version ?? 0) + 1, now);
        count++;
      }
    })();
    return count;
  }

  /**
   * Inserts a version whose number the caller already knows (build diffs a whole snapshot in
   * memory and must not pay one SELECT per key). Call inside a transaction.
   */
  insertRow(w: KvWrite, version: number, now = this.clock.now()): void {
    const secret = isEncryptedAtRest(w.namespace, w.key) && !w.deleted;
    const stored = secret ? this.cipher().encrypt(w.namespace, w.key, w.value) : w.value;
    this.insertStmt.run(w.namespace, w.key, version, stored, w.ttl, now, w.deleted ? 1 : 0, secret ? 1 : 0);
  }

  decode(row: KvRow): string {
    return row.encrypted ? this.cipher().decrypt(row.namespace, row.key, row.value) : row.value;
  }
}
