import type { HookEvent } from "../workspace/model.js";
import { NS, parseNamespace, ROLLOUT_ORDER_KEY, type NamespaceKind, type ParsedNamespace } from "./namespaces.js";

/**
 * The note's KV read/write matrix as one pure decision: which namespaces a running hook may read
 * and write. No I/O: the caller passes the hook's upstream jobs in lazily, since only reads of
 * other jobs' namespaces need them. The runtime API and templates (get, getSecret) use it as is.
 */

/** What a request wants to do to a namespace. */
export type KvOperation = "read" | "list" | "put" | "delete" | "putSecret" | "deleteSecret";

/** Who is asking: the running invocation's job, event and worker. */
export interface KvPrincipal {
  job: string;
  event: string;
  workerIp: string;
}

/** Events on which a hook may override rollout order. */
export const ROLLOUT_ORDER_EVENTS: readonly HookEvent[] = ["pre_deploy", "cli"];
/** The event whose hooks are read-only with respect to KV. */
export const READ_ONLY_EVENT: HookEvent = "health_check";

export class NamespaceDenied extends Error {
  constructor(
    readonly namespace: string,
    readonly operation: KvOperation,
    /** Which rule refused it and what to do instead, for the API error's detail. */
    readonly reason: string = `namespace ${namespace} is not allowed for ${operation}`,
  ) {
    super(reason);
    this.name = "NamespaceDenied";
  }
}

export class HealthCheckWriteDenied extends Error {
  constructor() {
    super("KV writes are not allowed during health_check");
    this.name = "HealthCheckWriteDenied";
  }
}

export class KvKeyNotFound extends Error {
  constructor(readonly namespace: string, readonly key: string) {
    super(`key ${key} not found in ${namespace}`);
    this.name = "KvKeyNotFound";
  }
}

/** Namespaces every hook may read. */
const BUCKET_WIDE: ReadonlySet<NamespaceKind> = new Set(["bucketMeta", "workerMeta", "bucketVars"]);
/** Job namespaces readable for a job named in the hook's demands (the note's "upstream demand jobs"). */
const UPSTREAM_READABLE: ReadonlySet<NamespaceKind> = new Set(["jobMeta", "jobVars", "jobSecrets"]);

export function isWrite(op: KvOperation): boolean {
  return op !== "read" && op !== "list";
}

/**
 * Least privilege, as the original: per-worker namespaces only for the invocation's own worker,
 * a job's bucket-level vars and per-allocation keys only for its own job, and an upstream job's
 * maand/vars/secrets namespaces only when a hook of this job demands it.
 */
export function canRead(who: KvPrincipal, ns: ParsedNamespace, upstreamJobs: () => readonly string[]): boolean {
  if (BUCKET_WIDE.has(ns.kind)) return true;
  if (ns.worker !== undefined && ns.worker !== who.workerIp) return false;
  if (ns.job === undefined || ns.job === who.job) return true;
  return UPSTREAM_READABLE.has(ns.kind) && upstreamJobs().includes(ns.job);
}

function canWrite(who: KvPrincipal, ns: ParsedNamespace, key: string, op: KvOperation): boolean {
  if (ns.job !== who.job) return false;
  switch (op) {
    case "put":
      if (ns.kind === "jobVars") return true;
      return ns.kind === "jobMeta" && key === ROLLOUT_ORDER_KEY && ROLLOUT_ORDER_EVENTS.includes(who.event as HookEvent);
    case "delete":
      return ns.kind === "jobVars";
    case "putSecret":
    case "deleteSecret":
      return ns.kind === "jobSecrets";
    default:
      return false;
  }
}

/**
 * Throws HealthCheckWriteDenied or NamespaceDenied when `who` may not perform `op`;
 * returns the parsed namespace otherwise.
 */
export function authorizeKv(
  who: KvPrincipal,
  op: KvOperation,
  namespace: string,
  key: string,
  upstreamJobs: () => readonly string[],
): ParsedNamespace {
  if (isWrite(op) && who.event === READ_ONLY_EVENT) throw new HealthCheckWriteDenied();
  const ns = parseNamespace(namespace);
  const ok = ns !== undefined && (op === "read" ? canRead(who, ns, upstreamJobs) : canWrite(who, ns, key, op));
  if (!ok) throw new NamespaceDenied(namespace, op, denialReason(who, op, namespace, ns, key));
  return ns;
}

/** The rule behind a refusal and the fix, in one sentence (sent as the API error's detail). */
export function denialReason(who: KvPrincipal, op: KvOperation, namespace: string, ns: ParsedNamespace | undefined, key: string): string {
  const own = `vars/job/${who.job}`;
  if (!ns) {
    return `${namespace} is not a maand KV namespace; expected one of maand/bucket, maand/worker[/<ip>[/tags]], vars/bucket[/job/<job>], maand/job/<job>[/worker/<ip>], vars/job/<job>, secrets/job/<job>`;
  }
  if (op === "list") return `GET /kv/keys lists only this job's ${own} and secrets/job/${who.job}, as the original maand did`;
  if (op === "read") {
    if (ns.worker !== undefined && ns.worker !== who.workerIp) {
      return `${namespace} belongs to worker ${ns.worker}; this hook runs for ${who.workerIp} and reads only its own worker's keys`;
    }
    if (ns.kind === "bucketJobVars") return `${namespace} is job ${ns.job}'s; a hook reads only its own job's vars/bucket/job/${who.job}`;
    if (ns.kind === "jobWorker") return `${namespace} belongs to job ${ns.job}; a hook reads only maand/job/${who.job}/worker/${who.workerIp}`;
    return (
      `${namespace} is readable only when a hook of job ${who.job} declares a demand on job ${ns.job} ` +
      `(add "demands": {"job": "${ns.job}", "hook": "<a hook of ${ns.job}>"} to a hook in workspace/jobs/${who.job}/manifest.json, then run maand build)`
    );
  }
  if (ns.job !== who.job) return `a hook writes only its own job's namespaces (${own}, secrets/job/${who.job}); ${namespace} is job ${ns.job ?? "-"}'s or the bucket's`;
  if (op === "put" || op === "delete") {
    if (ns.kind === "jobSecrets") return `secrets are written and deleted with PUT/DELETE /kv/secret (put_job_secret, delete_job_secret), not /kv`;
    if (ns.kind === "jobMeta" && key === ROLLOUT_ORDER_KEY && op === "put") {
      return `${ROLLOUT_ORDER_KEY} may be written by ${ROLLOUT_ORDER_EVENTS.join(" and ")} hooks only; this hook runs for ${who.event}`;
    }
    return `${op === "put" ? "PUT" : "DELETE"} /kv writes only ${own}${op === "put" ? ` (and ${ROLLOUT_ORDER_KEY} in maand/job/${who.job} on ${ROLLOUT_ORDER_EVENTS.join(" or ")})` : ""}; ${namespace} is read-only for hooks`;
  }
  return `PUT/DELETE /kv/secret write only secrets/job/${who.job}; ${namespace} is not a secrets namespace`;
}

/** The namespaces a hook may list with GET /kv/keys: its own job's vars and secrets, as the original. */
export const ownJobNamespaces = (job: string): string[] => [NS.jobVars(job), NS.jobSecrets(job)];
