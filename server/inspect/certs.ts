import { X509Certificate } from "node:crypto";
import { isExpired, type KvStore } from "../store/kv.js";
import { latestKvRows, listJobs, listWorkers } from "../store/catalog.js";
import { CA_CERT_KEY, CERT_PREFIX, NS, parseNamespace } from "../kv/namespaces.js";
import { assertKnownNames } from "./filters.js";

/**
 * `maand cat certs` rows: the bucket CA and every leaf build keeps in KV, read from the
 * certificates themselves (not from the manifest), so what is shown is what deploy ships.
 */
export interface CatCertRow {
  /** "" for the CA. */
  job: string;
  /** "" for the CA. */
  worker_ip: string;
  /** The cert's name in the manifest ("ca" for the bucket CA). */
  name: string;
  subject: string;
  /** subjectAltName entries as "IP:127.0.0.2", "DNS:x". */
  sans: string[];
  not_after: string;
  /** Whole days until not-after, negative once expired. */
  days_left: number;
  /** A leaf's signature checks out against the current CA (always true for the CA itself). */
  signed_by_ca: boolean;
  /** Set when the stored PEM does not parse; the other fields are empty then. */
  error?: string;
}

export interface CertFilter {
  jobs?: readonly string[];
  workers?: readonly string[];
}

const DAY_MS = 86400_000;

export function catCerts(kv: KvStore, filter: CertFilter = {}): CatCertRow[] {
  const now = kv.now();
  const jobs = filter.jobs?.length ? new Set(filter.jobs) : undefined;
  const workers = filter.workers?.length ? new Set(filter.workers) : undefined;
  const leaves: { job: string; worker: string; name: string; pem: string }[] = [];
  let caPem: string | undefined;
  for (const r of latestKvRows(kv.db)) {
    if (r.deleted || isExpired(r, now) || !r.key.startsWith(CERT_PREFIX) || !r.key.endsWith(".crt")) continue;
    if (r.namespace === NS.worker && r.key === CA_CERT_KEY) {
      caPem = kv.decode(r);
      continue;
    }
    const ns = parseNamespace(r.namespace);
    if (ns?.kind !== "jobWorker" || !ns.job || !ns.worker) continue;
    leaves.push({ job: ns.job, worker: ns.worker, name: r.key.slice(CERT_PREFIX.length, -".crt".length), pem: kv.decode(r) });
  }
  assertKnownNames("--jobs", "job", filter.jobs, [...leaves.map((l) => l.job), ...listJobs(kv.db).map((j) => j.name)]);
  assertKnownNames("--workers", "worker", filter.workers, [...leaves.map((l) => l.worker), ...listWorkers(kv.db).map((w) => w.worker_ip)]);

  const ca = caPem === undefined ? undefined : parse(caPem);
  const rows: CatCertRow[] = [];
  // The CA is every leaf's issuer: shown unless the filter asks for particular jobs or workers.
  if (caPem !== undefined && !jobs && !workers) rows.push(describe("", "", "ca", caPem, ca?.cert, now));
  for (const l of leaves) {
    if (jobs && !jobs.has(l.job)) continue;
    if (workers && !workers.has(l.worker)) continue;
    rows.push(describe(l.job, l.worker, l.name, l.pem, ca?.cert, now));
  }
  return rows;
}

function parse(pem: string): { cert?: X509Certificate; error?: string } {
  try {
    return { cert: new X509Certificate(pem) };
  } catch (err) {
    return { error: `the stored certificate does not parse: ${(err as Error).message}` };
  }
}

function describe(job: string, workerIp: string, name: string, pem: string, ca: X509Certificate | undefined, now: number): CatCertRow {
  const { cert, error } = parse(pem);
  if (!cert) return { job, worker_ip: workerIp, name, subject: "", sans: [], not_after: "", days_left: 0, signed_by_ca: false, error };
  const notAfter = new Date(cert.validTo);
  return {
    job,
    worker_ip: workerIp,
    name,
    // Node prints the subject one attribute per line; one line reads better in a table.
    subject: cert.subject.split("\n").join(", "),
    sans: cert.subjectAltName ? cert.subjectAltName.split(", ").map((s) => s.replace(/^IP Address:/, "IP:")) : [],
    not_after: notAfter.toISOString(),
    days_left: Math.floor((notAfter.getTime() - now) / DAY_MS),
    signed_by_ca: ca !== undefined && (job === "" ? cert.verify(cert.publicKey) : cert.checkIssued(ca) && cert.verify(ca.publicKey)),
  };
}
