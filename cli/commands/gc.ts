import { openBucket } from "../../server/bucket/context.js";
import { parseRetainDays } from "../../server/inspect/gc.js";
import { applyGc, planGc, type GcPlan, type GcResult } from "../../server/store/gc.js";
import { applyLogGc, planLogGc, WORKER_LOG_ROTATE_BYTES, type LogGcPlan, type LogGcResult } from "../../server/logs/gc.js";
import { renderJson } from "../render/table.js";

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

interface GcOptions {
  retainDays?: string;
  dryRun?: boolean;
  json?: boolean;
}

/** `maand gc [--retain-days N] [--dry-run] [--json]`: the plan first; --dry-run prints it and purges nothing. */
export default async function gc(bucket: string, opts: GcOptions): Promise<number> {
  const retainDays = parseRetainDays(opts.retainDays);
  // A dry run deletes nothing: no lock, no migration.
  const ctx = openBucket(bucket, { readonly: opts.dryRun ?? false });
  try {
    const now = ctx.clock.now();
    const plan = planGc(ctx.db, now, retainDays);
    const logPlan = planLogGc(ctx.paths.logs, now, retainDays);
    if (opts.dryRun) {
      console.log(opts.json ? renderJson(gcJson(retainDays, true, plan, logPlan)) : renderPlan(retainDays, plan, logPlan));
      return 0;
    }
    const r = applyGc(ctx.db, plan);
    // Under the bucket lock: no hook run is appending to the logs being rotated.
    const logs = applyLogGc(ctx.paths.logs, logPlan);
    console.log(opts.json ? renderJson(gcJson(retainDays, false, plan, logs, r)) : renderResult(retainDays, r, logs));
    return 0;
  } finally {
    ctx.close();
  }
}

function renderPlan(retainDays: number, p: GcPlan, logs: LogGcPlan): string {
  return [
    `gc plan (--dry-run: nothing was purged; history older than ${retainDays} days):`,
    `  removed allocations to purge  ${p.allocations.length}`,
    ...p.allocations.map((a) => `    ${a.job}@${a.worker_ip}`),
    `  tombstoned keys to purge      ${p.deadKeys.length}`,
    `  superseded KV rows to purge   ${p.supersededRows}`,
    ...logLines(logs, "to remove", "to rotate"),
  ].join("\n");
}

function renderResult(retainDays: number, r: GcResult, logs: LogGcResult): string {
  return [
    `gc (history older than ${retainDays} days):`,
    `  removed allocations purged  ${r.allocations} (hash rows ${r.hashes}, KV rows ${r.allocationKvRows})`,
    `  tombstoned KV rows purged   ${r.deadKeyRows}`,
    `  superseded KV rows purged   ${r.supersededRows}`,
    ...logLines(logs, "removed", "rotated"),
    `  log space freed             ${mib(logs.bytesFreed)}`,
  ].join("\n");
}

/** Every path gc removes or renames, so nothing disappears from logs/ unannounced. */
function logLines(r: LogGcPlan, removed: string, rotated: string): string[] {
  return [
    `  run logs ${removed}            ${r.runs.length}`,
    ...r.runs.map((id) => `    logs/runs/${id}`),
    `  worker logs ${rotated}         ${r.rotate.length} (over ${mib(WORKER_LOG_ROTATE_BYTES)}: <ip>.log -> <ip>.log.1)`,
    ...r.rotate.map((f) => `    logs/${f.file} (${mib(f.bytes)})`),
    `  rotated logs ${removed}        ${r.expired.length}`,
    ...r.expired.map((f) => `    logs/${f}`),
  ];
}

function gcJson(retainDays: number, dryRun: boolean, plan: GcPlan, logs: LogGcPlan & Partial<LogGcResult>, result?: GcResult) {
  return {
    dry_run: dryRun,
    retain_days: retainDays,
    cutoff: new Date(plan.cutoff).toISOString(),
    allocations: plan.allocations,
    dead_keys: plan.deadKeys,
    superseded_rows: plan.supersededRows,
    ...(result
      ? { purged: { allocations: result.allocations, hash_rows: result.hashes, allocation_kv_rows: result.allocationKvRows, dead_key_rows: result.deadKeyRows, superseded_rows: result.supersededRows } }
      : {}),
    logs: { runs: logs.runs, rotate: logs.rotate, expired: logs.expired, ...(logs.bytesFreed !== undefined ? { bytes_freed: logs.bytesFreed } : {}) },
  };
}
