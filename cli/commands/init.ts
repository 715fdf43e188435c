import { initBucket } from "../../server/bucket/init.js";
import { renderJson } from "../render/table.js";

export default async function init(bucket: string, opts: { json?: boolean } = {}): Promise<number> {
  const r = await initBucket(bucket);
  if (opts.json) console.log(renderJson({ created: r.created, bucket_id: r.bucketId, root: r.paths.root }));
  else if (r.created) console.log(`initialised bucket ${r.bucketId} in ${r.paths.root}`);
  else console.log(`${r.paths.root} is already a maand bucket (${r.bucketId}); nothing changed`);
  return 0;
}
