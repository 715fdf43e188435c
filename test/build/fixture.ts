import { createHash } from "node:crypto";
import Database from "better-sqlite3";
import { makeBucket, writeWorkspace, type WorkspaceFixture } from "../helpers/bucket.js";
import { openBucket, type BucketContext } from "../../server/bucket/context.js";
import { collect, maand, maandAsync, MAAND_BIN, REPO, type CliResult } from "../helpers/cli.js";
import type { Clock } from "../../server/store/clock.js";
import { manualClock, type ManualClock } from "../helpers/clock.js";
import { runBuild } from "../../server/build/run.js";
import { certKey, type CertValues } from "../../server/build/kv-desired.js";
import { latestKvRows } from "../../server/store/catalog.js";

/** 3 workers, 3 jobs (cache demands db: deployment_seq 1), certs, vars, hooks. */
export function threeByThree(): WorkspaceFixture {
  return {
    workers: [
      { host: "10.0.0.1", labels: ["api"], hostname: "w1", memory: "8192 mb", cpu: "4000 mhz", tags: { zone: "a", rack: "r1" } },
      { host: "10.0.0.2", labels: ["api", "db"], hostname: "w2" },
      { host: "10.0.0.3", labels: ["db", "cache"] },
    ],
    bucketConf: 'env = "prod"\nregion = "eu"\n',
    bucketJobsConf: "[api]\nreplicas = 2\n",
    jobs: {
      api: {
        manifest: {
          version: "1.2",
          selectors: ["api"],
          certs: { server: { subject: { common_name: "api", organization: "maand" } } },
          hooks: { hook_ready: { executed_on: ["health_check", "cli"] } },
        },
        vars: 'port = 8080\nname = "api"\n',
        files: { Makefile: "start:\n\techo start\n", "_hooks/hook_ready.py": "print('ok')\n", "bin.sh": { content: "#!/bin/sh\n", mode: 0o755 } },
      },
      db: {
        manifest: { version: "2.0.0", selectors: ["db"], hooks: { hook_schema: { executed_on: ["cli"] } } },
        files: { Makefile: "start:\n", "_hooks/hook_schema.py": "print('schema')\n" },
      },
      cache: {
        manifest: {
          version: "0.1",
          hooks: {
            hook_warm: { executed_on: ["pre_deploy"], demands: { job: "db", hook: "hook_schema", config: { min_version: "1.0.0" } } },
          },
          certs: { tls: { subject: { common_name: "cache" }, pkcs8: true } },
        },
        files: { Makefile: "start:\n", "_hooks/hook_warm.py": "print('warm')\n" },
      },
    },
  };
}

export interface OpenTestBucket {
  root: string;
  ctx: BucketContext;
  clock: ManualClock;
  /** Closes the context and deletes the bucket. */
  cleanup(): void;
}

/**
 * A fresh bucket (with `ws` written, if given) opened on `clock`. Pass a describe-level clock
 * to keep its time running across tests.
 */
export async function openTestBucket(clock: ManualClock = manualClock(), ws?: WorkspaceFixture): Promise<OpenTestBucket> {
  const bucket = await makeBucket();
  if (ws) writeWorkspace(bucket.root, ws);
  const ctx = openBucket(bucket.root, { clock });
  return {
    root: bucket.root,
    ctx,
    clock,
    cleanup() {
      ctx.close();
      bucket.cleanup();
    },
  };
}

/** A fresh bucket with threeByThree() built in-process, open on `clock`. */
export async function builtBucket(clock: ManualClock = manualClock()): Promise<OpenTestBucket> {
  const b = await openTestBucket(clock, threeByThree());
  try {
    await runBuild(b.ctx);
  } catch (err) {
    b.cleanup();
    throw err;
  }
  return b;
}

export function withBucket<T>(root: string, clock: Clock | undefined, fn: (ctx: BucketContext) => Promise<T>): Promise<T> {
  const ctx = openBucket(root, clock ? { clock } : {});
  return fn(ctx).finally(() => ctx.close());
}

export const TABLES = ["bucket", "workers", "worker_labels", "jobs", "hooks", "job_files", "file_blobs", "allocations", "hash", "kv", "schema_version"] as const;

/** Every row of every catalog table, in a fixed order: equal dumps mean equal catalogs. */
export function dumpCatalog(dbFile: string, options: { ignore?: Record<string, string[]> } = {}): Record<string, unknown[]> {
  const db = new Database(dbFile, { readonly: true });
  try {
    const out: Record<string, unknown[]> = {};
    for (const t of TABLES) {
      const ignore = new Set(options.ignore?.[t] ?? []);
      const rows = db.prepare(`SELECT * FROM ${t}`).all() as Record<string, unknown>[];
      out[t] = rows
        .map((r) => JSON.stringify(Object.fromEntries(Object.entries(r).filter(([k]) => !ignore.has(k)).map(([k, v]) => [k, Buffer.isBuffer(v) ? v.toString("base64") : v]))))
        .sort();
    }
    return out;
  } finally {
    db.close();
  }
}

export function digest(dump: unknown): string {
  return createHash("sha256").update(JSON.stringify(dump)).digest("hex");
}

/** The leaf certificates build stored (maand/job/<job>/worker/<ip> certs/<name>.crt|.key), as planBuild takes them. */
export function storedCerts(ctx: BucketContext): CertValues {
  const certs: CertValues = new Map();
  for (const r of latestKvRows(ctx.db)) {
    if (!r.namespace.startsWith("maand/job/") || !r.key.startsWith("certs/") || !r.key.endsWith(".crt") || r.deleted) continue;
    const [, , job, , ip] = r.namespace.split("/");
    const name = r.key.slice("certs/".length, -".crt".length);
    certs.set(certKey(job!, ip!, name), { crt: r.value, key: ctx.kv.get(r.namespace, `certs/${name}.key`)! });
  }
  return certs;
}

/** A workspace of `workers` workers and `jobs` jobs, every job on every worker. */
export function largeWorkspace(workers: number, jobs: number): WorkspaceFixture {
  return {
    workers: Array.from({ length: workers }, (_, i) => ({
      host: `10.${((i + 1) >> 16) & 255}.${((i + 1) >> 8) & 255}.${(i + 1) & 255}`,
      labels: [`l${i % 5}`],
      tags: { rack: `r${i % 10}` },
    })),
    bucketConf: 'env = "bench"\n',
    jobs: Object.fromEntries(
      Array.from({ length: jobs }, (_, j) => [
        `job${String(j).padStart(3, "0")}`,
        { manifest: { version: `1.${j}.0`, selectors: ["worker"] }, vars: `port = ${8000 + j}\n`, files: { Makefile: `start:\n\techo ${j}\n` } },
      ]),
    ),
  };
}

/** `maand build` that must succeed; a failure shows the command's stderr. */
export function mustBuild(root: string): CliResult {
  const r = maand(root, "build");
  if (r.status !== 0) throw new Error(`maand build exited ${r.status}: ${r.stderr}${r.stdout}`);
  return r;
}

export { collect, maand, maandAsync, MAAND_BIN, REPO, type CliResult };
export { manualClock, type ManualClock } from "../helpers/clock.js";
