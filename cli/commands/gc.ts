import { openBucket } from "../../server/bucket/context.js";
import { applyGc, parseRetainDays, planGc } from "../../server/inspect/gc.js";

export default async function gc(bucket: string, opts: { retainDays?: string }): Promise<number> {
  const retainDays = parseRetainDays(opts.retainDays);
  const ctx = openBucket(bucket);
  try {
    const r = applyGc(ctx.db, planGc(ctx.db, ctx.clock.now(), retainDays));
    console.log(
      [
        `gc (history older than ${retainDays} days):`,
        `  removed allocations purged  ${r.allocations} (hash rows ${r.hashes}, KV rows ${r.allocationKvRows})`,
        `  tombstoned KV rows purged   ${r.deadKeyRows}`,
        `  superseded KV rows purged   ${r.supersededRows}`,
      ].join("\n"),
    );
    return 0;
  } finally {
    ctx.close();
  }
}
