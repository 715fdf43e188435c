import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { buildOpenApiDocument, BEARER_SECURITY_SCHEME, OPENAPI_SERVER_URL } from "../../server/api/openapi.js";
import { API_ERRORS } from "../../server/api/errors.js";
import { ROUTES, ROUTE_NAMES } from "../../server/api/routes.js";
import { HEADERS } from "../../server/api/request-headers.js";
import { ROUTE_ERRORS, COMMON_ERRORS } from "../../server/api/route-errors.js";

type Op = {
  operationId: string;
  parameters?: Array<{ in: string; name: string; required?: boolean }>;
  security?: unknown;
  requestBody?: { content: Record<string, { schema: Record<string, unknown> }> };
  responses: Record<string, { description: string; content?: Record<string, { schema: Record<string, unknown> }> }>;
};

describe("openapi document", () => {
  const doc = buildOpenApiDocument() as {
    openapi: string;
    servers: Array<{ url: string }>;
    paths: Record<string, Record<string, Op>>;
    components: { securitySchemes: Record<string, unknown>; schemas: Record<string, unknown> };
  };

  it("is OpenAPI 3.1 for the loopback server with bearer auth, and deterministic", () => {
    assert.equal(doc.openapi, "3.1.0");
    assert.deepEqual(doc.servers, [{ url: OPENAPI_SERVER_URL }]);
    assert.equal(OPENAPI_SERVER_URL, "http://127.0.0.1:8080");
    assert.deepEqual((doc.components.securitySchemes[BEARER_SECURITY_SCHEME] as { scheme: string }).scheme, "bearer");
    assert.equal(JSON.stringify(buildOpenApiDocument()), JSON.stringify(doc));
  });

  it("has every route at its documented method and path, with a stable operationId, headers and security", () => {
    const ops = Object.entries(doc.paths).flatMap(([path, item]) => Object.entries(item).map(([m, op]) => `${m.toUpperCase()} ${path} ${op.operationId}`));
    assert.deepEqual(ops.sort(), ROUTE_NAMES.map((n) => `${ROUTES[n].method} ${ROUTES[n].path} ${n}`).sort());
    assert.deepEqual([...ROUTE_NAMES].sort(), [
      "acquireSemaphore", "deleteKv", "deleteSecret", "getKv", "listDemands", "listKeys", "putKv", "putSecret", "releaseSemaphore", "semaphoreStatus",
    ]);
    for (const name of ROUTE_NAMES) {
      const op = doc.paths[ROUTES[name].path]![ROUTES[name].method.toLowerCase()]!;
      const headers = (op.parameters ?? []).filter((p) => p.in === "header");
      assert.deepEqual(headers.map((h) => [h.name, h.required]), [[HEADERS.allocationId, true], [HEADERS.event, true], [HEADERS.command, true]], name);
      assert.deepEqual(op.security, [{ [BEARER_SECURITY_SCHEME]: [] }]);
      const ok = op.responses["200"]!.content!["application/json"]!.schema;
      assert.ok(ok.description || ok.examples, `${name}: 200 schema has a description or examples`);
    }
  });

  it("documents every response: a specific 200 description, and schemas with descriptions and examples down to each field", () => {
    type Schema = { description?: string; examples?: unknown[]; properties?: Record<string, Schema>; items?: Schema; $ref?: string };
    const missing: string[] = [];
    const walk = (s: Schema, at: string): void => {
      if (s.$ref) return;
      if (!s.description) missing.push(`${at}: description`);
      if (!s.examples?.length) missing.push(`${at}: examples`);
      for (const [k, p] of Object.entries(s.properties ?? {})) walk(p, `${at}.${k}`);
      if (s.items) walk(s.items, `${at}[]`);
    };
    for (const name of ROUTE_NAMES) {
      const res = doc.paths[ROUTES[name].path]![ROUTES[name].method.toLowerCase()]!.responses["200"]!;
      assert.notEqual(res.description, "Successful response", `${name}: 200 says what it returns`);
      walk(res.content!["application/json"]!.schema as Schema, `${name} 200`);
    }
    walk(doc.components.schemas.Error as Schema, "Error");
    assert.deepEqual(missing, []);
  });

  it("documents request schemas with descriptions and examples", () => {
    const put = doc.paths["/kv"]!.put!.requestBody!.content["application/json"]!.schema as {
      required: string[];
      properties: Record<string, { description?: string; examples?: unknown[] }>;
      examples: unknown[];
    };
    assert.deepEqual(put.required, ["namespace", "key", "value"]);
    for (const [k, p] of Object.entries(put.properties)) {
      assert.ok(p.description, `${k} has a description`);
      assert.ok(p.examples?.length, `${k} has examples`);
    }
    assert.ok(put.examples.length >= 1);
    const get = doc.paths["/kv"]!.get!.parameters!.filter((p) => p.in === "query").map((p) => [p.name, p.required]);
    assert.deepEqual(get, [["namespace", true], ["key", true]]);
    const status = doc.paths["/semaphore/status"]!.get!.parameters!.filter((p) => p.in === "query").map((p) => p.name);
    assert.deepEqual(status, ["name"]);
  });

  it("lists every catalogue error a route can answer, with the note's messages, and an Error schema", () => {
    assert.ok(doc.components.schemas.Error);
    for (const name of ROUTE_NAMES) {
      const op = doc.paths[ROUTES[name].path]![ROUTES[name].method.toLowerCase()]!;
      for (const e of [...COMMON_ERRORS, ...ROUTE_ERRORS[name]]) {
        const def = API_ERRORS[e];
        const res = op.responses[String(def.status)];
        assert.ok(res, `${name} documents ${def.status}`);
        assert.ok(res.description.includes(def.message), `${name} ${def.status} mentions "${def.message}"`);
        assert.deepEqual(res.content!["application/json"]!.schema, { $ref: "#/components/schemas/Error" });
      }
    }
    assert.ok(doc.paths["/kv"]!.get!.responses["404"]!.description.includes("KV get operation failed"));
    assert.ok(doc.paths["/semaphore/acquire"]!.post!.responses["408"]!.description.includes("Timed out waiting for semaphore"));
  });
});
