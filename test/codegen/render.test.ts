import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { routerDocument, type OpenApiDocument } from "../../codegen/document.js";
import { fillTemplate, TemplateError } from "../../codegen/fill-template.js";
import { ContractError, readOperations, type Operation } from "../../codegen/operations.js";
import { templatesDir } from "../../codegen/paths.js";
import { PYTHON_LANG, pyLiteral, renderPythonOperation } from "../../codegen/python.js";
import { sdkValues } from "../../codegen/sdk-values.js";
import { renderTsOperation, TYPESCRIPT_LANG } from "../../codegen/typescript.js";
import { API_ERRORS } from "../../server/api/errors.js";
import { ROUTES } from "../../server/api/routes.js";
import { HEADERS } from "../../server/api/request-headers.js";

/** The generator's parts on fixture input: operations, templates, literals, contract checks. */

const clone = (doc: OpenApiDocument): any => JSON.parse(JSON.stringify(doc));

const OPS: Operation[] = [
  { id: "listThings", method: "GET", path: "/things", summary: "List things", inputIn: "query", successStatus: "200", inputs: [{ name: "kind", required: false, description: "Kind filter" }] },
  {
    id: "putThing",
    method: "PUT",
    path: "/things",
    summary: "Store a thing",
    inputIn: "body",
    successStatus: "201",
    inputs: [
      { name: "name", required: true, description: "Its name" },
      { name: "ttl", required: false, description: 'Seconds; """quoted""" */' },
    ],
  },
  { id: "ping", method: "POST", path: "/ping", summary: "Ping", inputIn: "none", successStatus: "200", inputs: [] },
];

describe("codegen: operation rendering (fixture operations)", () => {
  it("Python: keyword-only inputs, optional ones default to None and are not sent", () => {
    assert.deepEqual(OPS.map(renderPythonOperation), [
      [
        "def api_list_things(*, kind=None):",
        '    """GET /things: List things',
        "",
        "    kind (optional): Kind filter",
        '    """',
        '    return request("GET", "/things", query=drop_none({"kind": kind}))',
      ].join("\n"),
      [
        "def api_put_thing(*, name, ttl=None):",
        '    """PUT /things: Store a thing',
        "",
        "    name: Its name",
        '    ttl (optional): Seconds; \\"\\"\\"quoted\\"\\"\\" */',
        '    """',
        '    return request("PUT", "/things", body=drop_none({"name": name, "ttl": ttl}))',
      ].join("\n"),
      ['def api_ping():', '    """POST /ping: Ping"""', '    return request("POST", "/ping")'].join("\n"),
    ]);
  });

  it("TypeScript: input and result types from the embedded openapi-typescript types", () => {
    assert.equal(
      renderTsOperation(OPS[1]!),
      [
        'export type PutThingInput = NonNullable<operations["putThing"]["requestBody"]>["content"]["application/json"];',
        'export type PutThingResult = operations["putThing"]["responses"][201]["content"]["application/json"];',
        "/**",
        " * PUT /things: Store a thing",
        " * @param input.name Its name",
        ' * @param input.ttl (optional) Seconds; """quoted""" *\\/',
        " */",
        "export function apiPutThing(input: PutThingInput): Promise<TypedResponse<PutThingResult>> {",
        '  return request<PutThingResult>("PUT", "/things", { body: input });',
        "}",
      ].join("\n"),
    );
    assert.match(renderTsOperation(OPS[0]!), /export function apiListThings\(input: ListThingsInput = \{\}\)/);
    assert.match(renderTsOperation(OPS[2]!), /export function apiPing\(\): Promise<TypedResponse<PingResult>> \{\n {2}return request<PingResult>\("POST", "\/ping"\);/);
  });

  it("reads every route of the router, with method and path from the document", () => {
    const ops = readOperations(routerDocument());
    const byId = Object.fromEntries(ops.map((o) => [o.id, o]));
    assert.deepEqual(Object.keys(byId).sort(), Object.keys(ROUTES).sort());
    for (const [id, r] of Object.entries(ROUTES)) {
      assert.equal(byId[id]!.method, r.method, id);
      assert.equal(byId[id]!.path, r.path, id);
    }
    assert.deepEqual(byId.putKv!.inputs.map((i) => [i.name, i.required]), [["namespace", true], ["key", true], ["value", true], ["ttl", false]]);
    assert.equal(byId.getKv!.inputIn, "query");
    assert.equal(byId.listDemands!.inputIn, "none");
  });
});

describe("codegen: templates", () => {
  const values = { NAME: "x", PORT: 8080, MAP: { "A-B": ["C", "D"] } };

  it("drops codegen:strip lines and fills codegen:value lines, in both languages", () => {
    const py = 'import os\nfrom maand import x  # codegen:strip\nNAME = ""  # codegen:value\nMAP = {}  # codegen:value\n';
    assert.equal(fillTemplate({ name: "t.py", text: py }, PYTHON_LANG, values), 'import os\nNAME = "x"\nMAP = {"A-B": ["C", "D"]}\n');
    const ts = 'import { x } from "./y.ts"; // codegen:strip\nexport const PORT: number = 0; // codegen:value\nconst NAME = ""; // codegen:value\n';
    assert.equal(fillTemplate({ name: "t.ts", text: ts }, TYPESCRIPT_LANG, values), 'export const PORT: number = 8080;\nconst NAME = "x";\n');
  });

  it("a constant several templates of one file need is defined once", () => {
    const emitted = new Set<string>();
    const t = { name: "t.py", text: 'NAME = ""  # codegen:value\nx = 1' };
    assert.equal(fillTemplate(t, PYTHON_LANG, values, emitted), 'NAME = "x"\nx = 1');
    assert.equal(fillTemplate(t, PYTHON_LANG, values, emitted), "x = 1");
  });

  it("a placeholder the generator has no value for, or that is not NAME = ..., fails with file and line", () => {
    assert.throws(() => fillTemplate({ name: "t.py", text: "\nOTHER = 1  # codegen:value" }, PYTHON_LANG, values), (e: unknown) => e instanceof TemplateError && /t\.py:2: .*no value for OTHER/.test(e.message));
    assert.throws(() => fillTemplate({ name: "t.ts", text: "f(); // codegen:value" }, TYPESCRIPT_LANG, values), /t\.ts:1: a codegen:value line must read NAME = /);
  });

  it("Python literals: JSON strings, True/False/None, long dicts one entry per line", () => {
    assert.equal(pyLiteral({ a: true, b: false, c: null, d: [1, "é\"\\"] }), '{"a": True, "b": False, "c": None, "d": [1, "é\\"\\\\"]}');
    const long = pyLiteral(Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`key_${i}`, `value_${i}`])));
    assert.equal(long.split("\n").length, 10);
    assert.match(long, /^\{\n {4}"key_0": "value_0",\n/);
  });

  it("the templates spell no route path, header name or error message: those come from the router", () => {
    const literals = [...Object.values(ROUTES).map((r) => r.path), ...Object.values(HEADERS), ...Object.values(API_ERRORS).map((e) => e.message)];
    const files = ["python", "ts"].flatMap((d) => readdirSync(join(templatesDir(), d)).map((f) => join(templatesDir(), d, f)));
    assert.ok(files.length >= 5);
    for (const file of files) {
      const text = readFileSync(file, "utf8");
      for (const lit of literals) {
        for (const q of ['"', "'", "`"]) assert.ok(!text.includes(`${q}${lit}${q}`), `${file} hard-codes ${q}${lit}${q}`);
      }
    }
  });
});

describe("codegen: contract checks", () => {
  it("every operation must declare the same scope headers the SDK maps to environment variables", () => {
    const doc = clone(routerDocument());
    doc.paths["/kv"].get.parameters = doc.paths["/kv"].get.parameters.filter((p: any) => p.name !== HEADERS.event);
    assert.throws(() => sdkValues(doc), (e: unknown) => e instanceof ContractError && /GET \/kv declares headers/.test(e.message));
    const renamed = clone(routerDocument());
    for (const item of Object.values(renamed.paths as Record<string, Record<string, any>>)) {
      for (const op of Object.values(item)) for (const p of op.parameters) if (p.name === HEADERS.command) p.name = "X-HOOK";
    }
    assert.throws(() => sdkValues(renamed), /the SDK maps .* to environment variables/);
  });

  it("a bearer security scheme is required", () => {
    const doc = clone(routerDocument());
    doc.components.securitySchemes = {};
    assert.throws(() => sdkValues(doc), /no http bearer security scheme/);
  });

  it("operationIds must be unique identifiers; path parameters and mixed inputs are refused", () => {
    const bad = clone(routerDocument());
    bad.paths["/kv"].get.operationId = "get-kv";
    assert.throws(() => readOperations(bad), /GET \/kv: operationId must be an identifier/);
    const dup = clone(routerDocument());
    dup.paths["/kv"].put.operationId = "getKv";
    assert.throws(() => readOperations(dup), /duplicate operationId getKv/);
    const pathParam = clone(routerDocument());
    pathParam.paths["/kv"].get.parameters.push({ in: "path", name: "id", required: true, schema: { type: "string" } });
    assert.throws(() => readOperations(pathParam), /path parameters are not supported/);
  });
});
