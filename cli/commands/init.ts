import { initBucket } from "../../server/bucket/init.js";

export default async function init(bucket: string): Promise<number> {
  const r = await initBucket(bucket);
  if (r.created) console.log(`initialised bucket ${r.bucketId} in ${r.paths.root}`);
  else console.log(`${r.paths.root} is already a maand bucket (${r.bucketId}); nothing changed`);
  return 0;
}
