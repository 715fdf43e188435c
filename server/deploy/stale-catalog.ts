import type { BucketContext } from "../bucket/context.js";

/**
 * The call site of the operator-safety stale-catalog check (the workspace changed since the last
 * build: deploying would ship the old snapshot). That check is being written on main; deploy and
 * `maand job` call this before planning, and `--build` rebuilds instead. Until it is merged here
 * it checks nothing.
 */
export function assertCatalogFresh(_ctx: BucketContext): void {}
