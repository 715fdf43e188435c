import { generateOpenApiDocument } from "trpc-to-openapi";
import { API_ERRORS } from "./errors.js";
import { apiRouter } from "./router.js";
import { routeErrorsByStatus } from "./route-errors.js";
import { ROUTES, ROUTE_NAMES } from "./routes.js";
import { HEADERS } from "./request-headers.js";
import { ErrorOutput } from "./schemas.js";

export const OPENAPI_SERVER_URL = "http://127.0.0.1:8080";
export const API_TITLE = "maand hook runtime API";
/** Version of the HTTP contract (not of the maand package). */
export const API_VERSION = "1.0.0";
export const BEARER_SECURITY_SCHEME = "bearerAuth";

const DESCRIPTION =
  "In-process HTTP API that Python/Bun hook scripts use while maand runs them. Listens on 127.0.0.1 only " +
  `(maand.conf hook_api_port). Every request carries ${HEADERS.allocationId}, ${HEADERS.event} and ${HEADERS.command} of the running hook and ` +
  `${HEADERS.authorization}: Bearer $HOOK_API_TOKEN (unless maand.conf hook_api_auth = "headers"). GET routes accept ` +
  "their input as query parameters or as a JSON body. Errors are JSON {message, code}.";

type Json = Record<string, unknown>;

/**
 * openapi.json, generated from the router. Error responses come from the error catalogue
 * (one entry per status listing every message the route can answer), so they cannot drift.
 * Deterministic: same router, same bytes.
 */
export function buildOpenApiDocument(): Record<string, unknown> {
  const doc = generateOpenApiDocument(apiRouter, {
    title: API_TITLE,
    description: DESCRIPTION,
    version: API_VERSION,
    openApiVersion: "3.1.0",
    baseUrl: OPENAPI_SERVER_URL,
    securitySchemes: {
      [BEARER_SECURITY_SCHEME]: {
        type: "http",
        scheme: "bearer",
        description: "HOOK_API_TOKEN of the running hook invocation (random per invocation)",
      },
    },
    defs: { Error: ErrorOutput },
  }) as unknown as Json;
  const paths = doc.paths as Record<string, Record<string, Json>>;
  for (const name of ROUTE_NAMES) {
    const r = ROUTES[name];
    const op = paths[r.path]?.[r.method.toLowerCase()];
    if (!op) throw new Error(`openapi: operation ${name} missing at ${r.method} ${r.path}`);
    const responses = op.responses as Json;
    for (const [status, names] of routeErrorsByStatus(name)) {
      const messages = names.map((n) => `${API_ERRORS[n].code}: ${API_ERRORS[n].message}`);
      responses[String(status)] = {
        description: messages.join("; "),
        content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
      };
    }
  }
  return JSON.parse(JSON.stringify(doc)) as Record<string, unknown>;
}
