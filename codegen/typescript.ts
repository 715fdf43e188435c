import openapiTS, { astToString } from "openapi-typescript";
import type { OpenApiDocument } from "./document.js";
import { fillTemplate, readTemplate, type Lang, type SdkValue } from "./fill-template.js";
import type { Operation } from "./operations.js";
import { banner, headerLine, orderedInputs, RenderError, tidy } from "./render-common.js";
import { ALIASES, camelCase, HELPERS, pascalCase } from "./sdk-names.js";

/**
 * sdk-ts/maand.ts: the types openapi-typescript derives from openapi.json, embedded so the file
 * has no dependencies, then the TypeScript templates and one api* function per operation,
 * typed with those types (the drift check type-checks the whole file).
 */

export function tsLiteral(v: SdkValue): string {
  const flat = JSON.stringify(v);
  return flat.length <= 80 ? flat : JSON.stringify(v, null, 2);
}

export const TYPESCRIPT_LANG: Lang = { comment: "//", literal: tsLiteral };

export const tsName = (op: Operation): string => `api${pascalCase(op.id)}`;

const jsdoc = (s: string): string => s.replace(/\*\//g, "*\\/");

export function renderTsOperation(op: Operation): string {
  const T = pascalCase(op.id);
  const operation = `operations[${JSON.stringify(op.id)}]`;
  const lines: string[] = [];
  const inputs = orderedInputs(op);
  if (op.inputIn === "query") lines.push(`export type ${T}Input = NonNullable<${operation}["parameters"]["query"]>;`);
  if (op.inputIn === "body") lines.push(`export type ${T}Input = NonNullable<${operation}["requestBody"]>["content"]["application/json"];`);
  lines.push(`export type ${T}Result = ${operation}["responses"][${op.successStatus}]["content"]["application/json"];`);
  const doc = [`${op.method} ${op.path}: ${op.summary}`, ...inputs.map((i) => `@param input.${i.name}${i.required ? "" : " (optional)"} ${i.description}`)];
  lines.push("/**", ...doc.map((l) => ` * ${jsdoc(l)}`), " */");
  const param = op.inputIn === "none" ? "" : `input: ${T}Input${inputs.some((i) => i.required) ? "" : " = {}"}`;
  const arg = op.inputIn === "none" ? "" : `, { ${op.inputIn}: input }`;
  lines.push(
    `export function ${tsName(op)}(${param}): Promise<TypedResponse<${T}Result>> {`,
    `  return request<${T}Result>(${JSON.stringify(op.method)}, ${JSON.stringify(op.path)}${arg});`,
    "}",
  );
  return lines.join("\n");
}

function renderAliases(): string {
  const names = [
    ...HELPERS.filter((h) => camelCase(h) !== h).map((h) => [camelCase(h), h]),
    ...Object.entries(ALIASES).flatMap(([alias, target]) => [
      [camelCase(target), camelCase(alias)],
      [camelCase(target), alias],
    ]),
  ];
  return `export {\n${names.map(([from, as]) => `  ${from} as ${as},`).join("\n")}\n};`;
}

function checkDefined(text: string): void {
  const missing = HELPERS.map(camelCase).filter((h) => !new RegExp(`^export (?:async )?(?:function|const) ${h}\\b`, "m").test(text));
  if (missing.length) throw new RenderError(`sdk-ts: the templates do not define ${missing.join(", ")}`);
}

export async function renderTypeScript(doc: OpenApiDocument, ops: Operation[], values: Record<string, SdkValue>, root?: string): Promise<string> {
  const types = astToString(await openapiTS(doc as unknown as Parameters<typeof openapiTS>[0]));
  const [runtime, helpers] = ["ts/runtime.ts", "ts/helpers.ts"].map((t) => fillTemplate(readTemplate(t, root), TYPESCRIPT_LANG, values));
  const text = [
    headerLine("//"),
    "",
    banner("//", "types (openapi-typescript, from openapi/openapi.json)"),
    types.trimEnd(),
    "",
    banner("//", "runtime (codegen/templates/ts/runtime.ts)"),
    runtime,
    "",
    banner("//", "operations (generated from openapi/openapi.json)"),
    ops.map(renderTsOperation).join("\n\n"),
    "",
    banner("//", "helpers (codegen/templates/ts/helpers.ts)"),
    helpers,
    "",
    banner("//", "aliases (generated from codegen/sdk-names.ts)"),
    renderAliases(),
  ].join("\n");
  checkDefined(text);
  return tidy(text, 1);
}
