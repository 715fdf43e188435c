import type { Workspace } from "../workspace/model.js";
import type { JobPlacements } from "./allocate.js";
import type { CatalogTarget } from "./plan-catalog.js";
import { BUCKET_ID_KEY, CA_CERT_KEY, certFileKey, JOB_WORKERS_KEY, NS, ROLLOUT_ORDER_KEY } from "../kv/namespaces.js";

/** namespace -> key -> value */
export type NamespaceValues = Map<string, Map<string, string>>;

/** A leaf certificate and its key as stored in KV. */
export interface CertPair {
  crt: string;
  key: string;
}

/** Certificates for every (job, worker, cert name) of the workspace, reused or freshly issued. */
export type CertValues = Map<string, CertPair>;
export const certKey = (job: string, workerIp: string, name: string): string => `${job}|${workerIp}|${name}`;

export interface DesiredKv {
  /** Build-owned namespaces: synced (keys not listed are tombstoned). */
  synced: NamespaceValues;
  /** vars/job/<job>: put-only, keys written by hooks survive. */
  merged: NamespaceValues;
}


const list = (xs: readonly string[]): string => xs.join(",");

/** Every KV value build owns (SPEC §5), computed from the workspace and the target catalog. */
export function desiredKv(
  ws: Workspace,
  placed: JobPlacements[],
  target: CatalogTarget,
  ctx: { bucketId: string; caCertPem: string; certs: CertValues },
): DesiredKv {
  const synced: NamespaceValues = new Map();
  const ns = (name: string): Map<string, string> => {
    let m = synced.get(name);
    if (!m) synced.set(name, (m = new Map()));
    return m;
  };

  const jobNames = ws.jobs.map((j) => j.name).sort();
  const active = placed.filter((p) => p.activeWorkers.length > 0).map((p) => p.job.name).sort();
  const bucket = ns(NS.bucket);
  bucket.set(BUCKET_ID_KEY, ctx.bucketId);
  bucket.set("jobs", list(jobNames));
  bucket.set("activejobs", list(active));

  const workers = ns(NS.worker);
  const byLabel = new Map<string, string[]>();
  for (const w of target.workers) {
    for (const label of w.labels) {
      const ips = byLabel.get(label);
      if (ips) ips.push(w.worker_ip);
      else byLabel.set(label, [w.worker_ip]);
    }
  }
  for (const label of [...byLabel.keys()].sort()) {
    const ips = byLabel.get(label)!;
    workers.set(`${label}_workers`, list(ips));
    workers.set(`${label}_workers_length`, String(ips.length));
    ips.forEach((ip, i) => workers.set(`${label}_${i}`, ip));
  }
  workers.set(CA_CERT_KEY, ctx.caCertPem);

  const jobsOnWorker = new Map<string, string[]>();
  for (const { job, placements } of placed) {
    for (const p of placements) {
      const js = jobsOnWorker.get(p.workerIp);
      if (js) js.push(job.name);
      else jobsOnWorker.set(p.workerIp, [job.name]);
    }
  }
  const specs = new Map(ws.workers.map((w) => [w.host, w]));
  for (const w of target.workers) {
    const spec = specs.get(w.worker_ip)!;
    const m = ns(NS.workerOf(w.worker_ip));
    m.set("worker_ip", w.worker_ip);
    m.set("worker_id", w.worker_id);
    m.set("hostname", w.hostname);
    m.set("position", String(w.position));
    m.set("labels", list(w.labels));
    m.set("worker_memory_mb", String(w.memory_mb));
    m.set("worker_cpu_mhz", String(w.cpu_mhz));
    m.set("jobs", list([...(jobsOnWorker.get(w.worker_ip) ?? [])].sort()));
    const tags = Object.entries(spec.tags);
    if (tags.length) {
      const t = ns(NS.workerTags(w.worker_ip));
      for (const [k, v] of tags) t.set(k, v);
    }
  }

  const jobIds = new Map(target.jobs.map((j) => [j.name, j.job_id]));
  for (const { job, placements, activeWorkers } of placed) {
    const m = ns(NS.job(job.name));
    m.set("name", job.name);
    m.set("job_id", jobIds.get(job.name)!);
    m.set("version", job.version);
    m.set("selectors", list(job.selectors));
    m.set(JOB_WORKERS_KEY, list(activeWorkers));
    m.set("workers_length", String(activeWorkers.length));
    activeWorkers.forEach((ip, i) => m.set(`worker_${i}`, ip));
    // Every build resets the order to the active workers in catalog order (SPEC §5).
    m.set(ROLLOUT_ORDER_KEY, list(activeWorkers));

    const peers = peerLists(placements.map((p) => p.workerIp));
    placements.forEach((p, i) => {
      const a = ns(NS.allocation(job.name, p.workerIp));
      a.set(`${job.name}_allocation_index`, String(p.index));
      a.set("peer_workers", peers(i));
      a.set("version", job.version);
      for (const cert of job.certs) {
        const pair = ctx.certs.get(certKey(job.name, p.workerIp, cert.name));
        if (!pair) throw new Error(`build: no certificate planned for ${job.name} ${cert.name} on ${p.workerIp}`);
        a.set(certFileKey(cert.name, "crt"), pair.crt);
        a.set(certFileKey(cert.name, "key"), pair.key);
      }
    });
  }

  synced.set(NS.bucketVars, new Map(Object.entries(ws.bucketVars)));
  for (const [job, vars] of Object.entries(ws.bucketJobVars)) synced.set(NS.bucketJobVars(job), new Map(Object.entries(vars)));

  const merged: NamespaceValues = new Map();
  for (const job of ws.jobs) merged.set(NS.jobVars(job.name), new Map(Object.entries(ws.jobVars[job.name] ?? {})));
  return { synced, merged };
}

/**
 * "Everyone but me" for each member of a list, as comma lists. Slicing one joined string keeps
 * this linear per peer instead of re-joining n-1 names n times (500 workers x 50 jobs).
 */
function peerLists(ips: string[]): (i: number) => string {
  const all = list(ips);
  const starts: number[] = [];
  let at = 0;
  for (const ip of ips) {
    starts.push(at);
    at += ip.length + 1;
  }
  return (i) => {
    const start = starts[i]!;
    const end = start + ips[i]!.length;
    if (ips.length === 1) return "";
    if (i === 0) return all.slice(end + 1);
    if (i === ips.length - 1) return all.slice(0, start - 1);
    return all.slice(0, start) + all.slice(end + 1);
  };
}
