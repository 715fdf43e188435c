import { openBucket } from "../../server/bucket/context.js";
import { bucketInfo } from "../../server/inspect/info.js";
import { renderJson } from "../render/table.js";

export default async function info(bucket: string, opts: { json?: boolean }): Promise<number> {
  const ctx = openBucket(bucket, { readonly: true });
  let i;
  try {
    i = bucketInfo(ctx);
  } finally {
    ctx.close();
  }
  if (opts.json) {
    console.log(renderJson(i));
    return 0;
  }
  const a = i.allocations;
  const rows: Array<[string, string | number]> = [
    ["bucket_id", i.bucket_id],
    ["root", i.root],
    ["catalog", i.catalog],
    ["workspace", i.workspace],
    ["schema_version", i.schema_version],
    ["workers", i.workers],
    ["jobs", i.jobs],
    ["allocations", `${a.total} (active ${a.active}, disabled ${a.disabled}, removed ${a.removed})`],
    ["kv", `${i.kv.keys} keys, ${i.kv.rows} rows`],
  ];
  const w = Math.max(...rows.map(([k]) => k.length));
  console.log(rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join("\n"));
  return 0;
}
