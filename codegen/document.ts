import { buildOpenApiDocument } from "../server/api/openapi.js";
import { GENERATOR } from "./paths.js";

export type OpenApiDocument = Record<string, unknown>;

/** JSON has no comments, so openapi.json says it is generated with its first key. */
export const GENERATED_KEY = "x-generated-by";
const GENERATED_NOTE = `${GENERATOR} from the tRPC router in server/api; do not edit, run: npm run generate`;

/** Top-level keys in the order readers expect; everything below the top level is sorted. */
const TOP_LEVEL_ORDER = [GENERATED_KEY, "openapi", "info", "jsonSchemaDialect", "servers", "security", "tags", "paths", "webhooks", "components", "externalDocs"];

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== "object") return value;
  const obj = value as Record<string, unknown>;
  return Object.fromEntries(
    Object.keys(obj)
      .sort()
      .map((k) => [k, sortKeys(obj[k])]),
  );
}

/**
 * The document with a stable key order: the same router always gives the same bytes, whatever
 * order its procedures or schemas happen to be declared in.
 */
export function canonicalDocument(doc: OpenApiDocument): OpenApiDocument {
  const sorted = sortKeys({ ...doc, [GENERATED_KEY]: GENERATED_NOTE }) as OpenApiDocument;
  const rank = (k: string) => (TOP_LEVEL_ORDER.includes(k) ? TOP_LEVEL_ORDER.indexOf(k) : TOP_LEVEL_ORDER.length);
  const keys = Object.keys(sorted).sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
  return Object.fromEntries(keys.map((k) => [k, sorted[k]]));
}

/** openapi.json's bytes: pretty-printed, two-space indent, trailing newline. */
export function renderDocument(doc: OpenApiDocument): string {
  return `${JSON.stringify(canonicalDocument(doc), null, 2)}\n`;
}

/** The contract as the router defines it, canonicalised. */
export function routerDocument(): OpenApiDocument {
  return canonicalDocument(buildOpenApiDocument());
}
