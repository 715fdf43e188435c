import { READ_ONLY_EVENT, ROLLOUT_ORDER_EVENTS, ROLLOUT_ORDER_KEY } from "./routes.js";

/**
 * The note's KV read/write matrix as one pure decision: which namespaces a running hook may
 * read and write. No I/O: the caller passes the hook's upstream jobs in lazily, since only
 * reads of other jobs' namespaces need them.
 */

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

/** What a request wants to do to a namespace. */
export type KvOperation = "read" | "list" | "put" | "delete" | "putSecret" | "deleteSecret";

/** Who is asking: the running invocation's job, event and worker. */
export interface KvPrincipal {
  job: string;
  event: string;
  workerIp: string;
}

export class NamespaceDenied extends Error {
  constructor(readonly namespace: string, readonly operation: KvOperation) {
    super(`namespace ${namespace} is not allowed for ${operation}`);
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

export class InvalidRolloutOrder extends Error {
  constructor(detail: string) {
    super(detail);
    this.name = "InvalidRolloutOrder";
  }
}

const seg = (s: string | undefined): s is string => s !== undefined && s.length > 0;

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
      return ns.kind === "jobMeta" && key === ROLLOUT_ORDER_KEY && ROLLOUT_ORDER_EVENTS.includes(who.event as never);
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
  if (!ok) throw new NamespaceDenied(namespace, op);
  return ns;
}

/** A rollout_order value: the job's workers, comma-separated, each at most once. */
export function checkRolloutOrder(job: string, value: string, jobWorkers: readonly string[]): void {
  const entries = value.split(",");
  const known = new Set(jobWorkers);
  const seen = new Set<string>();
  for (const ip of entries) {
    if (ip.length === 0) {
      throw new InvalidRolloutOrder(`rollout_order must be a comma-separated list of workers of job ${job} without empty entries`);
    }
    if (!known.has(ip)) {
      throw new InvalidRolloutOrder(`rollout_order lists ${JSON.stringify(ip)}, which is not a worker of job ${job} (workers: ${jobWorkers.join(",") || "none"})`);
    }
    if (seen.has(ip)) throw new InvalidRolloutOrder(`rollout_order lists ${ip} more than once`);
    seen.add(ip);
  }
}
