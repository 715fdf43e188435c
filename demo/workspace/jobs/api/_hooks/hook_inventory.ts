// post_build and cli: records which workers the api job runs on, from build-owned KV.
import { allocationIp, getKvValue, isOneShot, putJobVariable } from "./maand";

const workers = await getKvValue("maand/job/api", "workers", "");
const index = await getKvValue(`maand/job/api/worker/${allocationIp()}`, "api_allocation_index");
console.log(`api allocation ${index} on ${allocationIp()} of [${workers}]`);
if (isOneShot()) {
  const res = await putJobVariable("inventory", workers);
  if (!res.ok) throw new Error(`put inventory: ${res.status} ${await res.text()}`);
}
