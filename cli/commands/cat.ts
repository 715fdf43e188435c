import { openBucket, type BucketContext } from "../../server/bucket/context.js";
import { UsageError } from "../../server/errors.js";
import { catAllocations, catHooks, catJobs, catWorkers } from "../../server/inspect/cat.js";
import { catCerts } from "../../server/inspect/certs.js";
import { catKv, kvGet } from "../../server/inspect/kv.js";
import { catDeployments } from "../../server/inspect/deployments.js";
import { deployRenderStep } from "../../server/deploy/render-step.js";
import { renderJson, tableLines, type Column } from "../render/table.js";

/** `maand cat ...`: read-only, never takes the bucket lock, so it works during a build or deploy. */

interface ListOptions {
  json?: boolean;
  jobs?: string;
  workers?: string;
  active?: boolean;
}

const KV_VALUE_WIDTH = 40;

/** A --jobs/--workers list; an empty list or an empty entry is a usage error, not "no filter". */
function csv(flag: string, s: string | undefined): string[] | undefined {
  if (s === undefined) return undefined;
  const list = s.split(",").map((x) => x.trim());
  if (list.some((x) => !x)) throw new UsageError(`${flag} ${JSON.stringify(s)}: expected a comma-separated list of names, e.g. ${flag} a,b`);
  return [...new Set(list)];
}

async function withBucket<T>(bucket: string, read: (ctx: BucketContext) => T | Promise<T>): Promise<T> {
  const ctx = openBucket(bucket, { readonly: true });
  try {
    return await read(ctx);
  } finally {
    ctx.close();
  }
}

function print<R>(rows: R[], opts: ListOptions, columns: Column<R>[]): number {
  if (opts.json) console.log(renderJson(rows));
  else writeLines(tableLines(rows, columns));
  return 0;
}

/** In chunks: a table of a million KV rows is longer than the longest string V8 can build. */
function writeLines(lines: Iterable<string>): void {
  let chunk: string[] = [];
  for (const line of lines) {
    chunk.push(line);
    if (chunk.length === 1000) {
      process.stdout.write(`${chunk.join("\n")}\n`);
      chunk = [];
    }
  }
  if (chunk.length) process.stdout.write(`${chunk.join("\n")}\n`);
}

/** A list as the table shows it: comma-separated. */
const list = (v: unknown) => (Array.isArray(v) ? v.join(",") : String(v ?? ""));

export async function workers(bucket: string, opts: ListOptions): Promise<number> {
  const rows = await withBucket(bucket, (ctx) => catWorkers(ctx.db));
  return print(rows, opts, [
    { field: "worker_ip" },
    { field: "hostname" },
    { field: "position" },
    { field: "labels", format: list },
    { field: "memory_mb" },
    { field: "cpu_mhz" },
    { field: "tags" },
    { field: "worker_id" },
  ]);
}

export async function jobs(bucket: string, opts: ListOptions): Promise<number> {
  const rows = await withBucket(bucket, (ctx) => catJobs(ctx.db));
  return print(rows, opts, [
    { field: "name" },
    { field: "version" },
    { field: "deployment_seq" },
    { field: "selectors", format: list },
    { field: "max_concurrent_upgrades" },
    { field: "max_concurrent_starts" },
    { field: "restart_policy" },
    { field: "job_id" },
  ]);
}

export async function allocations(bucket: string, opts: ListOptions): Promise<number> {
  const rows = await withBucket(bucket, (ctx) => catAllocations(ctx.db, { jobs: csv("--jobs", opts.jobs), workers: csv("--workers", opts.workers) }));
  return print(rows, opts, [
    { field: "alloc_id" },
    { field: "job" },
    { field: "worker_ip" },
    { field: "disabled" },
    { field: "removed" },
    { field: "deployment_seq" },
    { field: "new_version" },
    { field: "current_version" },
  ]);
}

export async function hooks(bucket: string, opts: ListOptions): Promise<number> {
  const rows = await withBucket(bucket, (ctx) => catHooks(ctx.db));
  return print(rows, opts, [
    { field: "job" },
    { field: "hook" },
    { field: "event" },
    { field: "script" },
    { field: "timeout_seconds" },
    { field: "demand_job" },
    { field: "demand_hook" },
    { field: "demand_config" },
  ]);
}

export async function deployments(bucket: string, opts: ListOptions): Promise<number> {
  const filter = { jobs: csv("--jobs", opts.jobs), workers: csv("--workers", opts.workers) };
  const rows = await withBucket(bucket, async (ctx) => catDeployments(ctx, await deployRenderStep(ctx.db), filter));
  const hash = (v: unknown) => (typeof v === "string" && v ? v.slice(0, 12) : "-");
  return print(rows, opts, [
    { field: "job" },
    { field: "worker_ip" },
    { field: "state" },
    { field: "current_version" },
    { field: "new_version" },
    { field: "current_hash", format: hash },
    { field: "previous_hash", format: hash },
    { field: "running" },
    { field: "last_deploy_at", format: (v) => (v ? new Date(Number(v)).toISOString() : "-") },
    { field: "last_result", format: (v, r) => (v ? `${v}${r.last_step ? ` (${r.last_step})` : ""}` : "-") },
  ]);
}

export async function kv(bucket: string, opts: ListOptions): Promise<number> {
  const rows = await withBucket(bucket, (ctx) => catKv(ctx.kv, { jobs: csv("--jobs", opts.jobs), workers: csv("--workers", opts.workers), active: opts.active ?? false }));
  return print(rows, opts, [
    { field: "namespace" },
    { field: "key" },
    { field: "value", maxWidth: KV_VALUE_WIDTH },
    { field: "version" },
    { field: "ttl" },
    { field: "created_at", format: (v) => new Date(Number(v)).toISOString() },
    { field: "deleted" },
    { field: "expired" },
  ]);
}

export async function certs(bucket: string, opts: ListOptions): Promise<number> {
  const rows = await withBucket(bucket, (ctx) => catCerts(ctx.kv, { jobs: csv("--jobs", opts.jobs), workers: csv("--workers", opts.workers) }));
  return print(rows, opts, [
    { field: "job" },
    { field: "worker_ip" },
    { field: "name" },
    { field: "subject", maxWidth: 64 },
    { field: "sans", format: list },
    { field: "not_after" },
    { field: "days_left" },
    { field: "signed_by_ca", format: (v) => (v ? "yes" : "NO") },
    { field: "error", format: (v) => String(v ?? "") },
  ]);
}

export async function kvGetValue(bucket: string, namespace: string, key: string, opts: { reveal?: boolean; json?: boolean }): Promise<number> {
  const value = await withBucket(bucket, (ctx) => kvGet(ctx.kv, namespace, key, opts.reveal ?? false));
  if (opts.json) console.log(renderJson({ namespace, key, value }));
  else process.stdout.write(value.endsWith("\n") ? value : `${value}\n`);
  return 0;
}
