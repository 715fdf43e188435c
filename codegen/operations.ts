import type { OpenApiDocument } from "./document.js";

/**
 * The operations of openapi.json as plain data: everything the SDK generators need (method,
 * path, where each input goes), read from the document and nowhere else.
 */
export interface Operation {
  /** operationId: the tRPC procedure name. */
  id: string;
  method: "GET" | "PUT" | "POST" | "DELETE" | "PATCH";
  path: string;
  summary: string;
  /** Where the inputs travel: query parameters, a JSON body, or nothing. */
  inputIn: "query" | "body" | "none";
  inputs: Input[];
  /** The 2xx status whose JSON body is the result, e.g. "200". */
  successStatus: string;
}

export interface Input {
  name: string;
  required: boolean;
  description: string;
}

export class ContractError extends Error {
  constructor(message: string) {
    super(`openapi.json: ${message}`);
    this.name = "ContractError";
  }
}

type Json = Record<string, unknown>;
const METHODS = ["get", "put", "post", "delete", "patch"] as const;

const obj = (v: unknown, where: string): Json => {
  if (v === null || typeof v !== "object" || Array.isArray(v)) throw new ContractError(`${where} is not an object`);
  return v as Json;
};

/** Follows a local `#/components/...` reference. */
export function deref(doc: OpenApiDocument, value: unknown, where: string): Json {
  const o = obj(value, where);
  const ref = o.$ref;
  if (typeof ref !== "string") return o;
  if (!ref.startsWith("#/")) throw new ContractError(`${where}: only local $refs are supported, got ${ref}`);
  let cur: unknown = doc;
  for (const part of ref.slice(2).split("/")) cur = obj(cur, ref)[part.replace(/~1/g, "/").replace(/~0/g, "~")];
  return deref(doc, cur, ref);
}

const describe = (o: Json): string => (typeof o.description === "string" ? o.description.trim() : "");

function bodyInputs(doc: OpenApiDocument, op: Json, where: string): Input[] {
  const content = obj(obj(deref(doc, op.requestBody, `${where} requestBody`).content, `${where} requestBody.content`)["application/json"], `${where} JSON body`);
  const schema = deref(doc, content.schema, `${where} body schema`);
  if (schema.type !== "object") throw new ContractError(`${where}: the JSON body must be an object schema`);
  // `required` keeps the router's field order (namespace, key, value); properties are sorted.
  const required = (schema.required as string[] | undefined) ?? [];
  const rank = (name: string) => (required.includes(name) ? required.indexOf(name) : required.length);
  return Object.entries(obj(schema.properties ?? {}, `${where} body properties`))
    .map(([name, s]) => ({ name, required: required.includes(name), description: describe(deref(doc, s, `${where} ${name}`)) }))
    .sort((a, b) => rank(a.name) - rank(b.name));
}

function queryInputs(doc: OpenApiDocument, op: Json, where: string): Input[] {
  const params = ((op.parameters as unknown[] | undefined) ?? []).map((p, i) => deref(doc, p, `${where} parameter ${i}`));
  const unsupported = params.find((p) => p.in !== "query" && p.in !== "header");
  if (unsupported) throw new ContractError(`${where}: ${String(unsupported.in)} parameters are not supported (${String(unsupported.name)})`);
  return params
    .filter((p) => p.in === "query")
    .map((p) => ({ name: String(p.name), required: p.required === true, description: describe(p) || describe(obj(p.schema ?? {}, `${where} ${String(p.name)}`)) }));
}

/** Every operation, in document order (paths sorted, then methods in METHODS order). */
export function readOperations(doc: OpenApiDocument): Operation[] {
  const ops: Operation[] = [];
  const ids = new Set<string>();
  for (const [path, item] of Object.entries(obj(doc.paths, "paths"))) {
    for (const method of METHODS) {
      const raw = obj(item, path)[method];
      if (raw === undefined) continue;
      const where = `${method.toUpperCase()} ${path}`;
      const op = obj(raw, where);
      const id = op.operationId;
      if (typeof id !== "string" || !/^[A-Za-z][A-Za-z0-9]*$/.test(id)) throw new ContractError(`${where}: operationId must be an identifier, got ${JSON.stringify(id)}`);
      if (ids.has(id)) throw new ContractError(`${where}: duplicate operationId ${id}`);
      ids.add(id);
      const query = queryInputs(doc, op, where);
      const body = op.requestBody === undefined ? [] : bodyInputs(doc, op, where);
      if (query.length && op.requestBody !== undefined) throw new ContractError(`${where}: both query parameters and a body`);
      const successStatus = Object.keys(obj(op.responses, `${where} responses`)).find((s) => /^2\d\d$/.test(s));
      if (!successStatus) throw new ContractError(`${where}: no 2xx response`);
      ops.push({
        id,
        method: method.toUpperCase() as Operation["method"],
        path,
        summary: String(op.summary ?? ""),
        inputIn: op.requestBody !== undefined ? "body" : query.length ? "query" : "none",
        inputs: op.requestBody !== undefined ? body : query,
        successStatus,
      });
    }
  }
  return ops;
}

/** Header parameters every operation declares (name -> required), checked to be the same everywhere. */
export function headerParameters(doc: OpenApiDocument): string[] {
  let common: string[] | undefined;
  for (const [path, item] of Object.entries(obj(doc.paths, "paths"))) {
    for (const method of METHODS) {
      const op = obj(item, path)[method] as Json | undefined;
      if (!op) continue;
      const names = ((op.parameters as unknown[] | undefined) ?? [])
        .map((p) => deref(doc, p, path))
        .filter((p) => p.in === "header" && p.required === true)
        .map((p) => String(p.name));
      if (common && names.join("\n") !== common.join("\n")) {
        throw new ContractError(`${method.toUpperCase()} ${path} declares headers ${names.join(", ") || "none"}, others ${common.join(", ")}`);
      }
      common = names;
    }
  }
  return common ?? [];
}
