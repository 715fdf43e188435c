import { issueLeaf, leafIsCurrent, type BucketCa, type LeafPolicy, type LeafRequest } from "../certs/leaf.js";
import type { KvRow } from "../store/kv.js";
import type { JobPlacements } from "./allocate.js";
import { certKey, type CertValues } from "./kv-desired.js";
import { CERT_PREFIX, certFileKey, NS } from "../kv/namespaces.js";

export interface CertIssue extends LeafRequest {
  job: string;
  name: string;
}

export interface CertPlan {
  reuse: CertValues;
  issue: CertIssue[];
}

/**
 * Decides, per allocation and manifest cert, whether the leaf in KV stays or a new one is
 * issued (SPEC §12). Reads only the snapshot (private keys already decrypted there); issuing
 * is the async step after it.
 */
export function planCerts(placed: JobPlacements[], latest: readonly KvRow[], ca: BucketCa, policy: LeafPolicy, now: number): CertPlan {
  const plan: CertPlan = { reuse: new Map(), issue: [] };
  const withCerts = placed.filter((p) => p.job.certs.length > 0);
  if (withCerts.length === 0) return plan;
  const stored = new Map<string, string>();
  const wanted = new Set(withCerts.flatMap(({ job, placements }) => placements.map((p) => NS.allocation(job.name, p.workerIp))));
  for (const r of latest) {
    if (wanted.has(r.namespace) && r.key.startsWith(CERT_PREFIX) && !r.deleted) stored.set(`${r.namespace}\0${r.key}`, r.value);
  }
  for (const { job, placements } of withCerts) {
    for (const p of placements) {
      const ns = NS.allocation(job.name, p.workerIp);
      for (const cert of job.certs) {
        const req: CertIssue = { job: job.name, name: cert.name, ip: p.workerIp, subject: cert.subject, pkcs8: cert.pkcs8 };
        const crt = stored.get(`${ns}\0${certFileKey(cert.name, "crt")}`);
        const key = stored.get(`${ns}\0${certFileKey(cert.name, "key")}`);
        if (crt !== undefined && key !== undefined && leafIsCurrent(ca, { crt, key }, req, policy, now)) {
          plan.reuse.set(certKey(job.name, p.workerIp, cert.name), { crt, key });
        } else {
          plan.issue.push(req);
        }
      }
    }
  }
  return plan;
}

/** Issues the planned leaves a few at a time (key generation and signing run on the thread pool). */
export async function issueCerts(ca: BucketCa, plan: CertPlan, policy: LeafPolicy, now: number): Promise<CertValues> {
  const out: CertValues = new Map(plan.reuse);
  const width = 16;
  for (let i = 0; i < plan.issue.length; i += width) {
    const batch = plan.issue.slice(i, i + width);
    const pairs = await Promise.all(batch.map((req) => issueLeaf(ca, req, policy, now)));
    batch.forEach((req, j) => out.set(certKey(req.job, req.ip, req.name), pairs[j]!));
  }
  return out;
}

