import type { ApiContext } from "../context.js";
import { runOperation, type Operation } from "../operation.js";
import { OPERATIONS } from "../router.js";
import { ROUTES, ROUTE_NAMES, type RouteDef, type RouteName } from "../routes.js";

export interface RouteEntry {
  name: RouteName;
  def: RouteDef;
  call(ctx: ApiContext, input: unknown): Promise<unknown>;
}

export interface RouteTable {
  /** undefined: no such path; a Map without the method: wrong method. */
  lookup(path: string): ReadonlyMap<string, RouteEntry> | undefined;
  /** Every method some route takes, as an Allow header value (for requests naming no route). */
  allMethods: string;
}

/** The path -> method -> operation table, built once per server from ROUTES (routes.ts). */
export function buildRouteTable(): RouteTable {
  const byPath = new Map<string, Map<string, RouteEntry>>();
  for (const name of ROUTE_NAMES) {
    const def = ROUTES[name];
    const op = OPERATIONS[name] as Operation;
    const entry: RouteEntry = {
      name,
      def,
      call: (ctx, input) => runOperation(op, ctx, input),
    };
    let methods = byPath.get(def.path);
    if (!methods) byPath.set(def.path, (methods = new Map()));
    methods.set(def.method, entry);
  }
  const all = [...new Set(ROUTE_NAMES.map((n) => ROUTES[n].method))].sort().join(", ");
  return { lookup: (path) => byPath.get(path), allMethods: all };
}

export const allowHeader = (methods: ReadonlyMap<string, RouteEntry>): string => [...methods.keys()].sort().join(", ");
