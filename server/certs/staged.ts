import { createHash } from "node:crypto";
import type { KvReader } from "../store/kv.js";
import { CA_CERT_KEY, isCertFile, isCertPrivateKey, NS } from "../kv/namespaces.js";

/** A certificate file as a job's staged tree holds it (deploy syncs it, hook staging writes it). */
export interface CertFile {
  /** certs/<name>.crt|.key, certs/ca.crt: the KV key is the path. */
  path: string;
  mode: number;
  hash: string;
  content: Buffer;
}

const PRIVATE_KEY_MODE = 0o600;
const PUBLIC_MODE = 0o644;

/**
 * An allocation's certs from KV (SPEC §12): `maand/job/<job>/worker/<ip>` certs/<name>.crt|.key
 * (private keys 0600; KV decrypts them, they are encrypted only at rest in maand.db) and, when
 * there is any, the bucket CA from `maand/worker` as certs/ca.crt, which a service needs to
 * verify its peers. An allocation without certs gets nothing, not even the CA, so jobs that
 * declare none keep their content hash.
 */
export function allocationCertFiles(kv: KvReader, job: string, workerIp: string): CertFile[] {
  const ns = NS.allocation(job, workerIp);
  const leaves = kv
    .keys(ns)
    .filter(isCertFile)
    .sort()
    .flatMap((k) => {
      const value = kv.get(ns, k);
      return value === undefined ? [] : [certFile(k, isCertPrivateKey(ns, k) ? PRIVATE_KEY_MODE : PUBLIC_MODE, value)];
    });
  if (!leaves.length || leaves.some((f) => f.path === CA_CERT_KEY)) return leaves;
  const ca = kv.get(NS.worker, CA_CERT_KEY);
  return ca === undefined ? leaves : [...leaves, certFile(CA_CERT_KEY, PUBLIC_MODE, ca)];
}

function certFile(path: string, mode: number, value: string): CertFile {
  const content = Buffer.from(value);
  return { path, mode, hash: createHash("sha256").update(content).digest("hex"), content };
}
