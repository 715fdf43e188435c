import { initTRPC } from "@trpc/server";
import type { OpenApiMeta } from "trpc-to-openapi";
import { z } from "zod";
import type { ApiContext } from "./context.js";
import { ROUTES, type RouteName } from "./routes.js";
import { HEADERS } from "./request-headers.js";

/** The tRPC instance of the runtime API. */
export const t = initTRPC.context<ApiContext>().meta<OpenApiMeta>().create({ isDev: false });

/** The scope headers, declared as parameters on every operation. */
export const ScopeHeaders = z.object({
  [HEADERS.allocationId]: z.string().describe("Allocation UUID of the running hook invocation (env ALLOCATION_ID)").meta({ examples: ["0b6f3c1e-2f4a-5d6e-8a9b-1c2d3e4f5a6b"] }),
  [HEADERS.event]: z.string().describe("Event of the running hook (env EVENT); must match it").meta({ examples: ["pre_deploy"] }),
  [HEADERS.command]: z.string().describe("Hook name of the running hook (env COMMAND); must match it").meta({ examples: ["hook_migrate"] }),
});

const QUERY_OR_BODY =
  "The input may be sent as query parameters (as declared here) or as a JSON body with Content-Type: application/json " +
  "(the design note's form); when both are sent, body fields win.";

/**
 * A procedure of the runtime API at its documented method and path; `success` describes its
 * 200 response (the output schema's description).
 */
export function apiProcedure(name: RouteName, success?: string) {
  const r = ROUTES[name];
  const meta: OpenApiMeta = {
    openapi: {
      method: r.method,
      path: r.path,
      operationId: name,
      summary: r.summary,
      ...(r.queryInput ? { description: `${r.summary}. ${QUERY_OR_BODY}` } : {}),
      tags: [r.path.split("/")[1]!],
      ...(success ? { successDescription: success } : {}),
      requestHeaders: ScopeHeaders,
      protect: true,
      // Error responses are added from the catalogue by openapi.ts.
      errorResponses: [],
    },
  };
  return t.procedure.meta(meta);
}
