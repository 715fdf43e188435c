import { authorizeKv, type KvPrincipal } from "../kv/access.js";
import type { KvReader } from "../store/kv.js";
import type { TemplateKv } from "../templates/render.js";

/**
 * Templates are not a hook event; the principal carries this name only because KvPrincipal
 * needs one. The read rules it is checked against do not depend on the event.
 */
export const TEMPLATE_PRINCIPAL_EVENT = "template";

/**
 * The KV as one allocation's templates see it: the hook read rules (kv/access.ts) for the
 * allocation's job and worker, upstream jobs = the jobs its hooks demand. `keys` lists any
 * namespace the allocation may read: a template iterates over what it may `get` anyway (GET
 * /kv/keys is narrower only because the original API was).
 */
export function templateKv(kv: KvReader, who: Omit<KvPrincipal, "event">, upstreamJobs: () => readonly string[]): TemplateKv {
  const principal: KvPrincipal = { ...who, event: TEMPLATE_PRINCIPAL_EVENT };
  return {
    get(namespace, key) {
      authorizeKv(principal, "read", namespace, key, upstreamJobs);
      return kv.get(namespace, key);
    },
    keys(namespace) {
      authorizeKv(principal, "read", namespace, "", upstreamJobs);
      return kv.keys(namespace);
    },
  };
}
