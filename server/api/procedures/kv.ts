import type { ApiContext } from "../context.js";
import { defineOperation } from "../operation.js";
import { authorizeKv, KvKeyNotFound, NamespaceDenied, ownJobNamespaces, type KvOperation } from "../../kv/access.js";
import { ROLLOUT_ORDER_KEY } from "../../kv/namespaces.js";
import { acceptRolloutOrder } from "../../kv/rollout-order.js";
import {
  KvDeleteOutput,
  KvKeyInput,
  KvKeysInput,
  KvKeysOutput,
  KvPutInput,
  KvPutOutput,
  KvSecretPutInput,
  KvValueOutput,
} from "../schemas.js";

const authorize = (ctx: ApiContext, op: KvOperation, namespace: string, key: string) =>
  authorizeKv(ctx.invocation, op, namespace, key, () => ctx.services.upstreamJobs(ctx.invocation));

/** A delete of a key that is not there is the note's 404, as in the original; nothing is written. */
function deleteExisting(ctx: ApiContext, namespace: string, key: string) {
  if (!ctx.services.kv.delete(namespace, key, ctx.invocation.allocId)) throw new KvKeyNotFound(namespace, key);
  return { namespace, key, deleted: true as const };
}

export const getKv = defineOperation({
  name: "getKv",
  input: KvKeyInput,
  output: KvValueOutput,
  handler(ctx, { namespace, key }) {
    authorize(ctx, "read", namespace, key);
    const value = ctx.services.kv.get(namespace, key);
    if (value === undefined) throw new KvKeyNotFound(namespace, key);
    return { namespace, key, value };
  },
});

export const putKv = defineOperation({
  name: "putKv",
  input: KvPutInput,
  output: KvPutOutput,
  handler(ctx, { namespace, key, value, ttl }) {
    const ns = authorize(ctx, "put", namespace, key);
    // rollout_order is stored in its canonical form, the one the planner reads (kv/rollout-order.ts).
    const stored = ns.kind === "jobMeta" && key === ROLLOUT_ORDER_KEY ? acceptRolloutOrder(ctx.invocation.job, value, ctx.services.jobWorkers(ctx.invocation.job)) : value;
    ctx.services.kv.put(namespace, key, stored, ttl ?? 0, ctx.invocation.allocId);
    return { namespace, key, stored: true as const };
  },
});

export const deleteKv = defineOperation({
  name: "deleteKv",
  input: KvKeyInput,
  output: KvDeleteOutput,
  handler(ctx, { namespace, key }) {
    authorize(ctx, "delete", namespace, key);
    return deleteExisting(ctx, namespace, key);
  },
});

export const putSecret = defineOperation({
  name: "putSecret",
  input: KvSecretPutInput,
  output: KvPutOutput,
  handler(ctx, { namespace, key, value, ttl }) {
    authorize(ctx, "putSecret", namespace, key);
    ctx.services.kv.put(namespace, key, value, ttl ?? 0, ctx.invocation.allocId);
    return { namespace, key, stored: true as const };
  },
});

export const deleteSecret = defineOperation({
  name: "deleteSecret",
  input: KvKeyInput,
  output: KvDeleteOutput,
  handler(ctx, { namespace, key }) {
    authorize(ctx, "deleteSecret", namespace, key);
    return deleteExisting(ctx, namespace, key);
  },
});

export const listKeys = defineOperation({
  name: "listKeys",
  input: KvKeysInput,
  output: KvKeysOutput,
  handler(ctx, { namespace }) {
    // Only the job's own vars and secrets can be listed (key names, never values), as in the
    // original; "" means "both", the way the original clients send an omitted namespace.
    const own = ownJobNamespaces(ctx.invocation.job);
    if (namespace && !own.includes(namespace)) throw new NamespaceDenied(namespace, "list");
    const list = namespace ? [namespace] : own;
    const namespaces: Record<string, string[]> = {};
    for (const ns of list) namespaces[ns] = ctx.services.kv.keys(ns);
    return { namespaces };
  },
});
