import assert from "node:assert/strict";
import { request as httpRequest, type IncomingHttpHeaders } from "node:http";
import type { ApiErrorDef } from "../../server/api/errors.js";
import { makeBucket, writeWorkspace, type WorkspaceFixture } from "../helpers/bucket.js";
import { allocationId } from "../../server/build/ids.js";
import { manualClock, type ManualClock } from "../helpers/clock.js";
import { runBuild } from "../../server/build/run.js";
import { listAllocations } from "../../server/store/catalog.js";
import { openBucket, type BucketContext } from "../../server/bucket/context.js";
import { KvSession } from "../../server/store/kv-session.js";
import { InvocationRegistry, type Invocation } from "../../server/api/registry.js";
import { startRuntimeApi, type RuntimeApi } from "../../server/api/server.js";
import { ROUTES } from "../../server/api/routes.js";
import { HEADERS } from "../../server/api/request-headers.js";
import type { ApiServices } from "../../server/api/context.js";
import { createApiServices } from "../../server/api/context.js";
import { SemaphoreBoard } from "../../server/api/semaphores.js";

/**
 * A bucket whose catalog and build-owned KV come from a real `maand build` of the workspace
 * below, plus the secrets hooks would have written, and a running runtime API on a free port.
 *
 * workers 10.0.0.1 .. 10.0.0.3 (tags zone=a, zone=b); jobs:
 *   api      on .1 .2 (and .3 removed: a first build placed it there too); hook_migrate
 *            (pre_deploy, cli) demands database/hook_schema {"min_version":"2.0.0"};
 *            hook_check (health_check); hook_post (post_deploy)
 *   database on .1; hook_schema (cli)
 *   web      on .3; hook_seed (cli, Bun) demands database/hook_schema (no config)
 *   cache    on .2; no relation to api
 */
/** Allocation IDs, derived from job and IP exactly as build derives them. */
export const ALLOC = {
  api1: allocationId("api", "10.0.0.1"),
  api2: allocationId("api", "10.0.0.2"),
  api3removed: allocationId("api", "10.0.0.3"),
  db1: allocationId("database", "10.0.0.1"),
  web3: allocationId("web", "10.0.0.3"),
  cache2: allocationId("cache", "10.0.0.2"),
} as const;

const hookFiles = (...names: string[]) => ({
  Makefile: "start:\n\ttrue\n",
  ...Object.fromEntries(names.map((n) => [`_hooks/${n}`, n.endsWith(".ts") ? "console.log('ok');\n" : "print('ok')\n"])),
});

/** The workspace the fixture builds; `apiOnThird` is the first build, placing api on 10.0.0.3 too. */
export function fixtureWorkspace(apiOnThird: boolean): WorkspaceFixture {
  return {
    workers: [
      { host: "10.0.0.1", labels: ["api", "database"], tags: { zone: "a" } },
      { host: "10.0.0.2", labels: ["api", "cache"], tags: { zone: "b" } },
      { host: "10.0.0.3", labels: apiOnThird ? ["api", "web"] : ["web"] },
    ],
    bucketConf: 'region = "eu"\n',
    bucketJobsConf: '[api]\nreplicas = 2\n[cache]\nsize = "1g"\n',
    jobs: {
      api: {
        manifest: {
          version: "1.0.0",
          selectors: ["api"],
          hooks: {
            hook_migrate: { executed_on: ["pre_deploy", "cli"], demands: { job: "database", hook: "hook_schema", config: { min_version: "2.0.0" } } },
            hook_check: { executed_on: ["health_check"] },
            hook_post: { executed_on: ["post_deploy"] },
          },
        },
        vars: 'db_url = "postgres://db/api"\n',
        files: hookFiles("hook_migrate.py", "hook_check.py", "hook_post.py"),
      },
      database: {
        manifest: { version: "2.1.0", selectors: ["database"], hooks: { hook_schema: { executed_on: ["cli"] } } },
        vars: 'dsn = "postgres://db"\n',
        files: hookFiles("hook_schema.py"),
      },
      web: {
        manifest: { version: "1.0.0", selectors: ["web"], hooks: { hook_seed: { executed_on: ["cli"], demands: { job: "database", hook: "hook_schema" } } } },
        files: hookFiles("hook_seed.ts"),
      },
      cache: { manifest: { version: "0.1.0", selectors: ["cache"] }, vars: "ttl = 60\n", files: hookFiles() },
    },
  };
}

/** What hooks would have stored: secrets are never build's. */
const SECRETS: ReadonlyArray<[string, string, string]> = [
  ["secrets/job/api", "db_password", "s3cret-api"],
  ["secrets/job/database", "root_password", "s3cret-db"],
  ["secrets/job/cache", "token", "s3cret-cache"],
];

/**
 * A fresh bucket holding the fixture: built twice (the second build removes api from 10.0.0.3),
 * secrets stored, open on `clock` (build's KV rows are created at its time).
 */
export async function fixtureBucket(prefix: string, clock?: ManualClock): Promise<{ root: string; bucket: BucketContext; cleanup(): void }> {
  const { root, cleanup } = await makeBucket(prefix);
  const bucket = openBucket(root, clock ? { clock } : {});
  try {
    for (const apiOnThird of [true, false]) {
      writeWorkspace(root, fixtureWorkspace(apiOnThird));
      await runBuild(bucket);
    }
    for (const [ns, k, v] of SECRETS) bucket.kv.put(ns, k, v);
    const placed = listAllocations(bucket.db, { includeRemoved: true }).map((a) => `${a.alloc_id} ${a.job}@${a.worker_ip}${a.removed ? " removed" : ""}`);
    const expected = [`${ALLOC.cache2} cache@10.0.0.2`, `${ALLOC.db1} database@10.0.0.1`, `${ALLOC.api1} api@10.0.0.1`, `${ALLOC.api2} api@10.0.0.2`, `${ALLOC.api3removed} api@10.0.0.3 removed`, `${ALLOC.web3} web@10.0.0.3`];
    if (JSON.stringify(placed) !== JSON.stringify(expected)) throw new Error(`the API fixture's build placed ${placed.join(", ")}; expected ${expected.join(", ")}`);
  } catch (err) {
    bucket.close();
    cleanup();
    throw err;
  }
  return { root, bucket, cleanup };
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

export async function startFixture(options: { auth?: "token" | "headers" } = {}): Promise<Fixture> {
  const clock = manualClock(Date.UTC(2025, 0, 1));
  const { root, bucket, cleanup } = await fixtureBucket("maand-api-", clock);
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

/** No answer is a 500 or carries a stack trace or a source path. */
export function assertNoStack(r: HttpResult): void {
  assert.doesNotMatch(r.text, /\n\s+at |node_modules|\.js:\d+/);
  assert.notEqual(r.status, 500, r.text);
}

/**
 * A catalogue error as clients see it: its status, a JSON body of its code and the note's
 * message (or one matching `message`), at most a string detail besides, and no stack.
 */
export function expectApiError(r: HttpResult, def: ApiErrorDef, message: string | RegExp = def.message): void {
  assertNoStack(r);
  assert.equal(r.status, def.status, r.text);
  assert.match(String(r.headers["content-type"]), /^application\/json/, r.text);
  const { message: said, code, detail, ...rest } = (r.json ?? {}) as { message?: string; code?: string; detail?: unknown };
  assert.equal(code, def.code, r.text);
  if (typeof message === "string") assert.equal(said, message, r.text);
  else assert.match(String(said), message, r.text);
  if (detail !== undefined) assert.equal(typeof detail, "string", r.text);
  assert.deepEqual(rest, {}, `nothing besides message, code and detail: ${r.text}`);
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
