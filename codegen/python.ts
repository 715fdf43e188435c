import { fillTemplate, readTemplate, type Lang, type SdkValue } from "./fill-template.js";
import type { Operation } from "./operations.js";
import { banner, headerLine, orderedInputs, RenderError, tidy } from "./render-common.js";
import { ALIASES, HELPERS, PYTHON_ONLY_HELPERS, snakeCase } from "./sdk-names.js";
import { pythonValues } from "./sdk-values.js";

/** sdk-python/maand.py: the Python templates plus one api_* function per operation. */

const TEMPLATES = ["python/runtime.py", "python/helpers.py", "python/ssh.py"];

const KEYWORDS = new Set(
  "False None True and as assert async await break class continue def del elif else except finally for from global if import in is lambda nonlocal not or pass raise return try while with yield".split(" "),
);

export function pyLiteral(v: SdkValue, indent = ""): string {
  if (v === null) return "None";
  if (typeof v === "boolean") return v ? "True" : "False";
  if (typeof v === "number") return String(v);
  // A JSON string literal is a valid Python string literal (same escapes, UTF-8 source).
  if (typeof v === "string") return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map((x) => pyLiteral(x)).join(", ")}]`;
  const entries = Object.entries(v as Record<string, SdkValue>).map(([k, x]) => `${JSON.stringify(k)}: ${pyLiteral(x, `${indent}    `)}`);
  const flat = `{${entries.join(", ")}}`;
  return flat.length <= 80 ? flat : `{\n${entries.map((e) => `${indent}    ${e},`).join("\n")}\n${indent}}`;
}

export const pythonName = (op: Operation): string => `api_${snakeCase(op.id)}`;

export const PYTHON_LANG: Lang = { comment: "#", literal: (v) => pyLiteral(v) };

const docLine = (s: string): string => s.replace(/\\/g, "\\\\").replace(/"""/g, '\\"\\"\\"');

export function renderPythonOperation(op: Operation): string {
  const inputs = orderedInputs(op);
  for (const i of inputs) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(i.name) || KEYWORDS.has(i.name)) throw new RenderError(`${op.id}: input ${i.name} is not a Python identifier`);
  }
  const params = inputs.map((i) => (i.required ? i.name : `${i.name}=None`));
  const signature = params.length ? `*, ${params.join(", ")}` : "";
  const doc = [`${op.method} ${op.path}: ${op.summary}`];
  if (inputs.length) doc.push("", ...inputs.map((i) => `${i.name}${i.required ? "" : " (optional)"}: ${i.description}`), "");
  const fields = `drop_none({${inputs.map((i) => `${JSON.stringify(i.name)}: ${i.name}`).join(", ")}})`;
  const args = op.inputIn === "query" ? `, query=${fields}` : op.inputIn === "body" ? `, body=${fields}` : "";
  return [
    `def ${pythonName(op)}(${signature}):`,
    `    """${doc.map((l, n) => (n === 0 || l === "" ? docLine(l) : `    ${docLine(l)}`)).join("\n")}${doc.length > 1 ? "    " : ""}"""`,
    `    return request(${JSON.stringify(op.method)}, ${JSON.stringify(op.path)}${args})`,
  ].join("\n");
}

/** Module-level single-line imports of the templates, hoisted, de-duplicated and sorted. */
function hoistImports(parts: string[]): { imports: string[]; bodies: string[] } {
  const imports = new Set<string>();
  const bodies = parts.map((text) =>
    text
      .split("\n")
      .filter((line) => {
        const isImport = /^(import \S|from \S+ import [^(]+$)/.test(line);
        if (isImport) imports.add(line.trimEnd());
        return !isImport;
      })
      .join("\n"),
  );
  const sorted = [...imports].sort((a, b) => Number(a.startsWith("from ")) - Number(b.startsWith("from ")) || (a < b ? -1 : 1));
  return { imports: sorted, bodies };
}

function moduleDocstring(ops: Operation[]): string {
  return [
    '"""maand hook SDK for Python: standard library only, Python >= 3.9.',
    "",
    "Import it from a hook script (`from maand import ...`); maand stages it next to the script.",
    "Helpers: " + [...HELPERS, ...PYTHON_ONLY_HELPERS].map((h) => `${h}()`).join(", ") + ".",
    "API helpers return a Response (status_code, ok, text, json(), raise_for_status()).",
    "",
    "Operations of openapi.json (keyword arguments; inputs left as None are not sent):",
    ...ops.map((op) => `    ${pythonName(op)}: ${op.method} ${op.path}`),
    "",
    "The hand-written parts live in codegen/templates/python/.",
    '"""',
  ].join("\n");
}

function checkDefined(text: string): void {
  const missing = [...HELPERS, ...PYTHON_ONLY_HELPERS].filter((h) => !new RegExp(`^def ${h}\\(`, "m").test(text));
  if (missing.length) throw new RenderError(`sdk-python: the templates do not define ${missing.join(", ")}`);
}

export function renderPython(ops: Operation[], values: Record<string, SdkValue>, root?: string): string {
  const pyValues = pythonValues(values);
  const emitted = new Set<string>();
  const [runtime, helpers, ssh] = TEMPLATES.map((t) => fillTemplate(readTemplate(t, root), PYTHON_LANG, pyValues, emitted));
  const { imports, bodies } = hoistImports([runtime as string, helpers as string, ssh as string]);
  const aliases = Object.entries(ALIASES).map(([alias, target]) => `${alias} = ${target}`);
  const text = [
    headerLine("#"),
    moduleDocstring(ops),
    imports.join("\n"),
    "",
    banner("#", "runtime (codegen/templates/python/runtime.py)"),
    bodies[0],
    "",
    banner("#", "operations (generated from openapi/openapi.json)"),
    "",
    ops.map(renderPythonOperation).join("\n\n\n"),
    "",
    "",
    banner("#", "helpers (codegen/templates/python/helpers.py)"),
    bodies[1],
    "",
    banner("#", "SSH helpers (codegen/templates/python/ssh.py)"),
    bodies[2],
    "",
    banner("#", "aliases (generated from codegen/sdk-names.ts)"),
    ...aliases,
  ].join("\n");
  checkDefined(text);
  return tidy(text, 2);
}
