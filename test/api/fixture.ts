import { request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { makeBucket } from "../helpers/bucket.js";
import { openBucket, type BucketContext } from "../../server/bucket/context.js";
import { KvSession } from "../../server/store/kv-session.js";
import { InvocationRegistry, type Invocation } from "../../server/api/registry.js";
import { startRuntimeApi, type RuntimeApi } from "../../server/api/server.js";
import { HEADERS, ROUTES } from "../../server/api/routes.js";
import type { ApiServices } from "../../server/api/context.js";
import { createApiServices } from "../../server/api/context.js";
import { SemaphoreBoard } from "../../server/api/semaphores.js";

/**
 * A bucket with a small catalog written by direct SQL (no `maand build`), seeded KV, and a
 * running runtime API on a free port.
 *
 * workers 10.0.0.1 .. 10.0.0.3; jobs:
 *   api      on .1 .2 (and .3 removed); hook_migrate (pre_deploy, cli) demands database/hook_schema
 *            {"min_version":"2.0.0"}; hook_check (health_check); hook_post (post_deploy)
 *   database on .1; hook_schema (cli)
 *   web      on .3; hook_seed (cli) demands database/hook_schema (no config)
 *   cache    on .2; no relation to api
 */
export const IPS = ["10.0.0.1", "10.0.0.2", "10.0.0.3"] as const;

export const ALLOC = {
  api1: "11111111-0000-4000-8000-000000000001",
  api2: "11111111-0000-4000-8000-000000000002",
  api3removed: "11111111-0000-4000-8000-000000000003",
  db1: "22222222-0000-4000-8000-000000000001",
  web3: "33333333-0000-4000-8000-000000000003",
  cache2: "44444444-0000-4000-8000-000000000002",
} as const;

export const SEED: ReadonlyArray<[string, string, string]> = [
  ["maand/bucket", "bucket_id", "b-1"],
  ["maand/worker", "worker_workers", "10.0.0.1,10.0.0.2,10.0.0.3"],
  ["maand/worker/10.0.0.1", "worker_ip", "10.0.0.1"],
  ["maand/worker/10.0.0.1/tags", "zone", "a"],
  ["maand/worker/10.0.0.2", "worker_ip", "10.0.0.2"],
  ["maand/worker/10.0.0.2/tags", "zone", "b"],
  ["vars/bucket", "region", "eu"],
  ["vars/bucket/job/api", "replicas", "2"],
  ["vars/bucket/job/cache", "size", "1g"],
  ["maand/job/api", "version", "1.0.0"],
  ["maand/job/api", "rollout_order", "10.0.0.1,10.0.0.2"],
  ["maand/job/api/worker/10.0.0.1", "api_allocation_index", "0"],
  ["maand/job/api/worker/10.0.0.2", "api_allocation_index", "1"],
  ["vars/job/api", "db_url", "postgres://db/api"],
  ["secrets/job/api", "db_password", "s3cret-api"],
  ["maand/job/database", "version", "2.1.0"],
  ["maand/job/database/worker/10.0.0.1", "database_allocation_index", "0"],
  ["vars/job/database", "dsn", "postgres://db"],
  ["secrets/job/database", "root_password", "s3cret-db"],
  ["maand/job/cache", "version", "0.1.0"],
  ["maand/job/cache/worker/10.0.0.2", "cache_allocation_index", "0"],
  ["vars/job/cache", "ttl", "60"],
  ["secrets/job/cache", "token", "s3cret-cache"],
];

/** A clock tests move by hand (TTL expiry without sleeping). */
export class ManualClock {
  constructor(public t = Date.UTC(2025, 0, 1)) {}
  now(): number {
    return this.t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

export interface Fixture {
  root: string;
  clock: ManualClock;
  bucket: BucketContext;
  kv: KvSession;
  registry: InvocationRegistry;
  api: RuntimeApi;
  /** Registers a running invocation (defaults: api on 10.0.0.1, cli, hook_migrate). */
  invoke(over?: Partial<Omit<Invocation, "token">>): Invocation;
  /** Scope + auth headers for an invocation. */
  headersFor(inv: Invocation): Record<string, string>;
  /** Every live key and value as the session sees it, for "nothing changed" assertions. */
  snapshot(): string;
  close(): Promise<void>;
}

export function seedCatalog(bucket: BucketContext): void {
  const db = bucket.db;
  IPS.forEach((ip, i) => db.prepare("INSERT INTO workers (worker_id, worker_ip, position) VALUES (?, ?, ?)").run(`w-${i}`, ip, i));
  const job = db.prepare("INSERT INTO jobs (job_id, name, version, selectors, deployment_seq, manifest) VALUES (?, ?, ?, '[]', ?, '{}')");
  job.run("j-db", "database", "2.1.0", 0);
  job.run("j-api", "api", "1.0.0", 1);
  job.run("j-web", "web", "1.0.0", 1);
  job.run("j-cache", "cache", "0.1.0", 0);
  const alloc = db.prepare("INSERT INTO allocations (alloc_id, job, worker_ip, removed) VALUES (?, ?, ?, ?)");
  alloc.run(ALLOC.api1, "api", "10.0.0.1", 0);
  alloc.run(ALLOC.api2, "api", "10.0.0.2", 0);
  alloc.run(ALLOC.api3removed, "api", "10.0.0.3", 1);
  alloc.run(ALLOC.db1, "database", "10.0.0.1", 0);
  alloc.run(ALLOC.web3, "web", "10.0.0.3", 0);
  alloc.run(ALLOC.cache2, "cache", "10.0.0.2", 0);
  const hook = db.prepare(
    "INSERT INTO hooks (job, hook, event, script, demand_job, demand_hook, demand_config) VALUES (?, ?, ?, ?, ?, ?, ?)",
  );
  for (const ev of ["pre_deploy", "cli"]) hook.run("api", "hook_migrate", ev, "hook_migrate.py", "database", "hook_schema", '{"min_version":"2.0.0"}');
  hook.run("api", "hook_check", "health_check", "hook_check.py", null, null, null);
  hook.run("api", "hook_post", "post_deploy", "hook_post.py", null, null, null);
  hook.run("database", "hook_schema", "cli", "hook_schema.py", null, null, null);
  hook.run("web", "hook_seed", "cli", "hook_seed.ts", "database", "hook_schema", null);
  for (const [ns, k, v] of SEED) bucket.kv.put(ns, k, v);
}

export async function startFixture(options: { auth?: "token" | "headers" } = {}): Promise<Fixture> {
  const { root, cleanup } = await makeBucket("maand-api-");
  const clock = new ManualClock();
  const bucket = openBucket(root, { clock });
  seedCatalog(bucket);
  const kv = new KvSession(bucket.kv);
  const registry = new InvocationRegistry();
  const api = await startRuntimeApi({ db: bucket.db, kv, registry, auth: options.auth ?? "token" }, { port: 0 });
  return {
    root,
    clock,
    bucket,
    kv,
    registry,
    api,
    invoke: (over = {}) =>
      registry.register({ allocId: ALLOC.api1, job: "api", workerIp: "10.0.0.1", event: "cli", command: "hook_migrate", ...over }),
    headersFor: (inv) => ({
      [HEADERS.allocationId]: inv.allocId,
      [HEADERS.event]: inv.event,
      [HEADERS.command]: inv.command,
      [HEADERS.authorization]: `Bearer ${inv.token}`,
    }),
    snapshot: () => snapshotKv(bucket, kv),
    async close() {
      await api.stop();
      bucket.close();
      cleanup();
    },
  };
}

export function snapshotKv(bucket: BucketContext, kv: KvSession): string {
  const namespaces = (bucket.db.prepare("SELECT DISTINCT namespace FROM kv ORDER BY namespace").all() as { namespace: string }[]).map((r) => r.namespace);
  for (const extra of ["vars/job/api", "secrets/job/api", "maand/job/api"]) if (!namespaces.includes(extra)) namespaces.push(extra);
  const rows = namespaces.flatMap((ns) => kv.keys(ns).map((k) => `${ns} ${k}=${kv.get(ns, k)}`));
  const dbRows = bucket.db.prepare("SELECT COUNT(*) AS n FROM kv").get() as { n: number };
  return `${rows.join("\n")}\n#rows=${dbRows.n} dirty=${kv.dirty}`;
}

/** In-process services over a fixture bucket (for router unit tests). */
export function servicesFor(bucket: BucketContext, kv: KvSession): ApiServices {
  return createApiServices(bucket.db, kv, new SemaphoreBoard());
}

export interface HttpResult {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  json: any;
}

export interface RequestOptions {
  headers?: Record<string, string>;
  /** Object -> JSON with Content-Type application/json unless headers override; string/Buffer sent raw. */
  body?: unknown;
  rawBody?: string | Buffer;
  signal?: AbortSignal;
}

export interface SemaphoreStatus {
  name: string;
  capacity: number;
  holders: string[];
  waiting: number;
  available: number;
}

/** GET /semaphore/status as the invocation `headers` belong to sees it. */
export async function semaphoreStatus(baseUrl: string, headers: Record<string, string>, name: string): Promise<SemaphoreStatus> {
  const r = await call(baseUrl, "GET", `${ROUTES.semaphoreStatus.path}?name=${encodeURIComponent(name)}`, { headers });
  if (r.status !== 200) throw new Error(`semaphore status ${name}: ${r.status} ${r.text}`);
  return r.json as SemaphoreStatus;
}

/**
 * One request over node:http (not fetch: fetch refuses GET bodies), on a fresh connection.
 */
export function call(baseUrl: string, method: string, path: string, opts: RequestOptions = {}): Promise<HttpResult> {
  const url = new URL(path, baseUrl);
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  let payload: Buffer | undefined;
  if (opts.rawBody !== undefined) payload = Buffer.isBuffer(opts.rawBody) ? opts.rawBody : Buffer.from(opts.rawBody);
  else if (opts.body !== undefined) {
    payload = Buffer.from(JSON.stringify(opts.body));
    if (!Object.keys(headers).some((h) => h.toLowerCase() === "content-type")) headers["Content-Type"] = "application/json";
  }
  if (payload) headers["Content-Length"] = String(payload.length);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: url.hostname, port: url.port, path: url.pathname + url.search, method, headers, agent: false, signal: opts.signal },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}
