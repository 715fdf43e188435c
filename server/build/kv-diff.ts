import { isExpired, type KvRow, type KvWrite } from "../store/kv.js";
import type { DesiredKv } from "./kv-desired.js";
import { isBuildOwned, isEncryptedAtRest } from "../kv/namespaces.js";

/** A KV write with its version number already known, so apply needs no SELECT per key. */
export interface VersionedKvWrite extends KvWrite {
  version: number;
}

export interface KvDiffInput {
  desired: DesiredKv;
  /** Values in plaintext (see BuildState.kv). */
  latest: readonly KvRow[];
  /** Namespaces left exactly as they are (removed allocations until gc), expiry aside. */
  preserved: ReadonlySet<string>;
  /** Jobs in the workspace: vars/job of any other job is tombstoned. */
  jobs: ReadonlySet<string>;
  now: number;
}

export interface KvDiff {
  writes: VersionedKvWrite[];
  written: number;
  tombstoned: number;
}

/**
 * Compares what build wants with the latest KV rows, in memory: unchanged values are not
 * rewritten (a rebuild with no change writes nothing), stale keys of build-owned namespaces are
 * tombstoned, merged namespaces only get puts, and every expired key anywhere is tombstoned.
 */
export function diffKv(input: KvDiffInput): KvDiff {
  const { desired, preserved, jobs, now } = input;
  const latest = new Map<string, Map<string, KvRow>>();
  for (const row of input.latest) {
    let m = latest.get(row.namespace);
    if (!m) latest.set(row.namespace, (m = new Map()));
    m.set(row.key, row);
  }
  const writes: VersionedKvWrite[] = [];
  let tombstoned = 0;
  const put = (namespace: string, key: string, value: string, prev: KvRow | undefined) =>
    writes.push({ namespace, key, value, ttl: 0, deleted: false, version: (prev?.version ?? 0) + 1 });
  const tombstone = (row: KvRow) => {
    writes.push({ namespace: row.namespace, key: row.key, value: "", ttl: 0, deleted: true, version: row.version + 1 });
    tombstoned++;
  };
  const live = (row: KvRow | undefined): row is KvRow => row !== undefined && !row.deleted && !isExpired(row, now);
  // A row stored in the wrong form (a private key written before keys were encrypted) is rewritten.
  const unchanged = (row: KvRow | undefined, value: string) =>
    live(row) && row.ttl === 0 && Boolean(row.encrypted) === isEncryptedAtRest(row.namespace, row.key) && row.value === value;

  const wanted = (values: Map<string, string>, rows: Map<string, KvRow> | undefined, namespace: string) => {
    for (const [key, value] of values) {
      const prev = rows?.get(key);
      if (!unchanged(prev, value)) put(namespace, key, value, prev);
    }
  };

  for (const [namespace, values] of desired.synced) {
    const rows = latest.get(namespace);
    wanted(values, rows, namespace);
    for (const [key, row] of rows ?? []) {
      if (!values.has(key) && !row.deleted) tombstone(row);
    }
  }
  for (const [namespace, values] of desired.merged) {
    const rows = latest.get(namespace);
    wanted(values, rows, namespace);
    for (const [key, row] of rows ?? []) {
      if (!values.has(key) && !row.deleted && isExpired(row, now)) tombstone(row);
    }
  }
  for (const [namespace, rows] of latest) {
    if (desired.synced.has(namespace) || desired.merged.has(namespace)) continue;
    const stale = !preserved.has(namespace) && isBuildOwned(namespace, jobs);
    for (const row of rows.values()) {
      if (!row.deleted && (stale || isExpired(row, now))) tombstone(row);
    }
  }
  writes.sort((a, b) => (a.namespace < b.namespace ? -1 : a.namespace > b.namespace ? 1 : a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return { writes, written: writes.length - tombstoned, tombstoned };
}
