import type { KvReader, KvStore, KvWrite, KvWriter } from "./kv.js";

interface Pending extends KvWrite {
  writtenAt: number;
  /** Who wrote it (an allocation ID, for hooks): run summaries say whose writes were kept or discarded. */
  writer?: string;
}

/** What a commit would persist, or a rollback discard. */
export interface PendingSummary {
  /** Keys written or deleted (a key written twice counts once). */
  writes: number;
  /** Distinct writers of those keys. */
  writers: number;
}

/**
 * An in-memory layer over the KV store for one hook session: every write is visible at once to
 * every later read of the session (all hooks of a run share it), and reaches maand.db only on
 * commit(), in one transaction. rollback() forgets everything since the last commit.
 */
export class KvSession implements KvReader, KvWriter {
  private pending = new Map<string, Pending>();

  constructor(readonly store: KvStore) {}

  get dirty(): boolean {
    return this.pending.size > 0;
  }

  pendingSummary(): PendingSummary {
    const writers = new Set<string>();
    for (const p of this.pending.values()) if (p.writer !== undefined) writers.add(p.writer);
    return { writes: this.pending.size, writers: writers.size };
  }

  get(namespace: string, key: string): string | undefined {
    const p = this.pending.get(id(namespace, key));
    if (!p) return this.store.get(namespace, key);
    if (p.deleted) return undefined;
    if (p.ttl > 0 && p.writtenAt + p.ttl * 1000 <= this.store.now()) return undefined;
    return p.value;
  }

  keys(namespace: string): string[] {
    const keys = new Set(this.store.keys(namespace));
    for (const p of this.pending.values()) {
      if (p.namespace !== namespace) continue;
      if (this.get(p.namespace, p.key) === undefined) keys.delete(p.key);
      else keys.add(p.key);
    }
    return [...keys].sort();
  }

  put(namespace: string, key: string, value: string, ttl = 0, writer?: string): void {
    this.pending.set(id(namespace, key), { namespace, key, value, ttl, deleted: false, writtenAt: this.store.now(), writer });
  }

  delete(namespace: string, key: string, writer?: string): boolean {
    if (this.get(namespace, key) === undefined) return false;
    this.pending.set(id(namespace, key), { namespace, key, value: "", ttl: 0, deleted: true, writtenAt: this.store.now(), writer });
    return true;
  }

  /** Persists every pending write in one transaction; returns how many rows were written. */
  commit(): number {
    const writes = [...this.pending.values()].map(({ writtenAt: _w, writer: _by, ...w }) => w);
    const n = this.store.apply(writes);
    this.pending.clear();
    return n;
  }

  rollback(): void {
    this.pending.clear();
  }
}

const id = (namespace: string, key: string): string => `${namespace}\0${key}`;
