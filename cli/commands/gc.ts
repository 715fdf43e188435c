import { openBucket } from "../../server/bucket/context.js";
import { applyGc, parseRetainDays, planGc } from "../../server/inspect/gc.js";
import { applyLogGc, planLogGc, WORKER_LOG_ROTATE_BYTES, type LogGcResult } from "../../server/logs/gc.js";

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

export default async function gc(bucket: string, opts: { retainDays?: string }): Promise<number> {
  const retainDays = parseRetainDays(opts.retainDays);
  const ctx = openBucket(bucket);
  try {
    const now = ctx.clock.now();
    const r = applyGc(ctx.db, planGc(ctx.db, now, retainDays));
    // Under the bucket lock: no hook run is appending to the logs being rotated.
    const logs = applyLogGc(ctx.paths.logs, planLogGc(ctx.paths.logs, now, retainDays));
    console.log(
      [
        `gc (history older than ${retainDays} days):`,
        `  removed allocations purged  ${r.allocations} (hash rows ${r.hashes}, KV rows ${r.allocationKvRows})`,
        `  tombstoned KV rows purged   ${r.deadKeyRows}`,
        `  superseded KV rows purged   ${r.supersededRows}`,
        ...logLines(logs),
      ].join("\n"),
    );
    return 0;
  } finally {
    ctx.close();
  }
}

/** Every path gc removed or renamed, so nothing disappears from logs/ unannounced. */
function logLines(r: LogGcResult): string[] {
  return [
    `  run logs removed            ${r.runs.length}`,
    ...r.runs.map((id) => `    logs/runs/${id}`),
    `  worker logs rotated         ${r.rotate.length} (over ${mib(WORKER_LOG_ROTATE_BYTES)}: <ip>.log -> <ip>.log.1)`,
    ...r.rotate.map((f) => `    logs/${f.file} (${mib(f.bytes)})`),
    `  rotated logs removed        ${r.expired.length}`,
    ...r.expired.map((f) => `    logs/${f}`),
    `  log space freed             ${mib(r.bytesFreed)}`,
  ];
}
