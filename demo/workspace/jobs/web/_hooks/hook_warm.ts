// cli: warms caches in reverse catalog order next time (put_rollout_order takes effect on the
// following run), and shows the batch it ran in.
import { allocationIp, isOneShot, putRolloutOrder, rolloutOrder } from "./maand";

const env = process.env;
console.log(`warming ${allocationIp()} batch ${env.BATCH_INDEX}/${env.BATCH_COUNT} order=${env.ROLLOUT_ORDER} (${env.ROLLOUT_ORDER_SOURCE})`);
if (isOneShot()) {
  const order = await rolloutOrder();
  const res = await putRolloutOrder([...order].reverse());
  if (!res.ok) throw new Error(`put rollout order: ${res.status} ${await res.text()}`);
}
