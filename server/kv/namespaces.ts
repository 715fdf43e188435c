/**
 * The KV namespaces of SPEC §5-§6 and their well-known keys, defined once: how a namespace is
 * built, parsed and classified (owner job and worker, secret, certificate private key,
 * build-owned). Build, the runtime API's access rules, staging, redaction, `cat`, gc and
 * templates all use this module; none of them splits a namespace string itself.
 */

export const NS = {
  bucket: "maand/bucket",
  worker: "maand/worker",
  workerOf: (ip: string) => `maand/worker/${ip}`,
  workerTags: (ip: string) => `maand/worker/${ip}/tags`,
  job: (job: string) => `maand/job/${job}`,
  allocation: (job: string, ip: string) => `maand/job/${job}/worker/${ip}`,
  bucketVars: "vars/bucket",
  bucketJobVars: (job: string) => `vars/bucket/job/${job}`,
  jobVars: (job: string) => `vars/job/${job}`,
  jobSecrets: (job: string) => `secrets/job/${job}`,
} as const;

/** maand/bucket key holding the bucket id (workers' paths and the SDKs' SSH helpers derive from it). */
export const BUCKET_ID_KEY = "bucket_id";
/** maand/job/<job> key listing the active workers in catalog order (also rollout_order's reset value). */
export const JOB_WORKERS_KEY = "workers";
/** maand/job/<job> key a pre_deploy or cli hook may write to reorder the next rollout. */
export const ROLLOUT_ORDER_KEY = "rollout_order";
/** Keys under maand/worker (the CA) and maand/job/<job>/worker/<ip> (leaves): certs/<name>.crt|.key. */
export const CERT_PREFIX = "certs/";
/** maand/worker key of the bucket CA's certificate. */
export const CA_CERT_KEY = "certs/ca.crt";
export const certFileKey = (name: string, part: "crt" | "key"): string => `${CERT_PREFIX}${name}.${part}`;

export type NamespaceKind =
  | "bucketMeta" // maand/bucket
  | "workerMeta" // maand/worker
  | "worker" // maand/worker/<ip>
  | "workerTags" // maand/worker/<ip>/tags
  | "bucketVars" // vars/bucket
  | "bucketJobVars" // vars/bucket/job/<job>
  | "jobMeta" // maand/job/<job>
  | "jobWorker" // maand/job/<job>/worker/<ip>
  | "jobVars" // vars/job/<job>
  | "jobSecrets"; // secrets/job/<job>

export interface ParsedNamespace {
  kind: NamespaceKind;
  /** The job a job-level namespace belongs to. */
  job?: string;
  /** The worker a per-worker namespace belongs to (maand/worker/<ip>, its tags, maand/job/<job>/worker/<ip>). */
  worker?: string;
}

const seg = (s: string | undefined): s is string => s !== undefined && s.length > 0;

/** The namespace's shape, or undefined for anything that is not one of SPEC §5's namespaces. */
export function parseNamespace(namespace: string): ParsedNamespace | undefined {
  const p = namespace.split("/");
  if (!p.every((s) => s.length > 0)) return undefined;
  const [a, b, c, d, e] = p;
  switch (p.length) {
    case 2:
      if (a === "maand" && b === "bucket") return { kind: "bucketMeta" };
      if (a === "maand" && b === "worker") return { kind: "workerMeta" };
      if (a === "vars" && b === "bucket") return { kind: "bucketVars" };
      return undefined;
    case 3:
      if (a === "maand" && b === "worker" && seg(c)) return { kind: "worker", worker: c };
      if (a === "maand" && b === "job" && seg(c)) return { kind: "jobMeta", job: c };
      if (a === "vars" && b === "job" && seg(c)) return { kind: "jobVars", job: c };
      if (a === "secrets" && b === "job" && seg(c)) return { kind: "jobSecrets", job: c };
      return undefined;
    case 4:
      if (a === "maand" && b === "worker" && seg(c) && d === "tags") return { kind: "workerTags", worker: c };
      if (a === "vars" && b === "bucket" && c === "job" && seg(d)) return { kind: "bucketJobVars", job: d };
      return undefined;
    case 5:
      if (a === "maand" && b === "job" && seg(c) && d === "worker" && seg(e)) return { kind: "jobWorker", job: c, worker: e };
      return undefined;
    default:
      return undefined;
  }
}

/** The job and worker a namespace belongs to ({} for bucket-wide ones and unknown shapes). */
export function namespaceOwner(namespace: string): { job?: string; worker?: string } {
  const ns = parseNamespace(namespace);
  return ns ? { ...(ns.job ? { job: ns.job } : {}), ...(ns.worker ? { worker: ns.worker } : {}) } : {};
}

/** secrets/job/<job> and anything else under secrets/: written by hooks only, encrypted. */
export const isSecretNamespace = (namespace: string): boolean => namespace.startsWith("secrets/");

/** A leaf certificate's private key as build stores it: `certs/<name>.key` in `maand/job/<job>/worker/<ip>`. */
export function isCertPrivateKey(namespace: string, key: string): boolean {
  const name = key.startsWith(CERT_PREFIX) && key.endsWith(".key") ? key.slice(CERT_PREFIX.length, -".key".length) : "";
  return name.length > 0 && !name.includes("/") && parseNamespace(namespace)?.kind === "jobWorker";
}

/** A certificate or its key, as staging and deploy write them to certs/ of a job. */
export const isCertFile = (key: string): boolean => key.startsWith(CERT_PREFIX) && (key.endsWith(".crt") || key.endsWith(".key"));

/**
 * THE rule for values that are encrypted in maand.db and need --reveal to be printed: secrets/*
 * and the certificates' private keys (maand.db may be copied around; kv.key stays in secrets/).
 */
export const isEncryptedAtRest = (namespace: string, key: string): boolean => isSecretNamespace(namespace) || isCertPrivateKey(namespace, key);

/**
 * Namespaces build owns and syncs (stale keys tombstoned): everything under maand/ and
 * vars/bucket*, and vars/job of a job no longer in the workspace. vars/job of a current job is
 * put-only (hooks write there too); secrets are never build's.
 */
export function isBuildOwned(namespace: string, workspaceJobs: ReadonlySet<string>): boolean {
  if (namespace.startsWith("maand/") || namespace === NS.bucketVars || namespace.startsWith(`${NS.bucketVars}/job/`)) return true;
  if (!namespace.startsWith("vars/job/")) return false;
  const ns = parseNamespace(namespace);
  return !(ns?.kind === "jobVars" && workspaceJobs.has(ns.job!));
}
