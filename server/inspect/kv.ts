import { escapeText } from "../text/escape.js";
import { MaandError } from "../errors.js";
import { isExpired, type KvRow, type KvStore } from "../store/kv.js";
import { latestKvRows, listJobs, listWorkers } from "../store/catalog.js";
import { assertKnownNames } from "./filters.js";
import { isEncryptedAtRest, isSecretNamespace, namespaceOwner } from "../kv/namespaces.js";

/** Shown instead of a secret's value: `maand cat` never prints one. */
export const SECRET_PLACEHOLDER = "<encrypted>";
/** Shown instead of a leaf certificate's private key (stored under maand/job/<job>/worker/<ip>). */
export const PRIVATE_KEY_PLACEHOLDER = "<private key>";

export interface KvFilter {
  jobs?: readonly string[];
  workers?: readonly string[];
  /** Live keys only: no tombstones, no expired keys. */
  active?: boolean;
}

/** `maand cat kv` rows: the kv table's columns, the latest version of each key. */
export interface KvViewRow {
  namespace: string;
  key: string;
  value: string;
  version: number;
  ttl: number;
  created_at: number;
  deleted: number;
  encrypted: number;
  expired: number;
}

/** Values that need --reveal: exactly those encrypted at rest (secrets/* and certificates' private keys). */
export function placeholderFor(namespace: string, key: string): string | undefined {
  if (!isEncryptedAtRest(namespace, key)) return undefined;
  return isSecretNamespace(namespace) ? SECRET_PLACEHOLDER : PRIVATE_KEY_PLACEHOLDER;
}

export function catKv(kv: KvStore, filter: KvFilter = {}): KvViewRow[] {
  const now = kv.now();
  const jobs = filter.jobs?.length ? new Set(filter.jobs) : undefined;
  const workers = filter.workers?.length ? new Set(filter.workers) : undefined;
  const rows: KvViewRow[] = [];
  // Jobs and workers that left the workspace keep their KV history: their names are known too.
  const seenJobs = new Set<string>();
  const seenWorkers = new Set<string>();
  for (const r of latestKvRows(kv.db)) {
    const expired = isExpired(r, now);
    if (jobs || workers) {
      const owner = namespaceOwner(r.namespace);
      if (owner.job) seenJobs.add(owner.job);
      if (owner.worker) seenWorkers.add(owner.worker);
      if (filter.active && (r.deleted || expired)) continue;
      if (jobs && !(owner.job && jobs.has(owner.job))) continue;
      if (workers && !(owner.worker && workers.has(owner.worker))) continue;
    } else if (filter.active && (r.deleted || expired)) continue;
    rows.push({ ...r, value: shownValue(r), expired: expired ? 1 : 0 });
  }
  if (jobs || workers) {
    assertKnownNames("--jobs", "job", filter.jobs, [...seenJobs, ...listJobs(kv.db).map((j) => j.name)]);
    assertKnownNames("--workers", "worker", filter.workers, [...seenWorkers, ...listWorkers(kv.db).map((w) => w.worker_ip)]);
  }
  return rows;
}

function shownValue(r: KvRow): string {
  if (r.deleted) return "";
  return placeholderFor(r.namespace, r.key) ?? r.value;
}

/**
 * `maand cat kv get NS KEY`: the plaintext value. A secret (or a private key) needs --reveal; a
 * missing key is an error, never an empty line.
 */
export function kvGet(kv: KvStore, namespace: string, key: string, reveal: boolean): string {
  const row = kv.latest(namespace, key);
  if (!row || row.deleted || isExpired(row, kv.now())) {
    throw new MaandError(`no key ${JSON.stringify(key)} in KV namespace ${JSON.stringify(namespace)}`);
  }
  if (placeholderFor(namespace, key) && !reveal) {
    throw new MaandError(`${escapeText(namespace)} ${escapeText(key)} is secret and is not printed; add --reveal to print it`);
  }
  return kv.decode(row);
}
