/**
 * Go 1.19's predefined template functions (text/template funcs.go), with Go's parameter shapes
 * and error wording. `and` and `or` are evaluated lazily by the evaluator itself; their entries
 * here only declare the arity.
 */
import { eq, le, lt } from "./compare.js";
import { TemplateFuncError } from "./errors.js";
import { sprint, sprintln } from "./fmt-print.js";
import { sprintf } from "./fmt-printf.js";
import { isPrint } from "./fmt-quote.js";
import { byteLength, byteSlice, utf8Bytes } from "./go-strings.js";
import type { TemplateFunc } from "./funcs.js";
import { GoMap, GoSlice, GoUint8, isTrue, typeName, type GoValue } from "./values.js";

function indexArg(index: GoValue, cap: number): number {
  let x: bigint;
  if (typeof index === "bigint") x = index;
  else if (index instanceof GoUint8) x = BigInt(index.value);
  else if (index === undefined) throw new TemplateFuncError("cannot index slice/array with nil");
  else throw new TemplateFuncError(`cannot index slice/array with type ${typeName(index)}`);
  if (x < 0n || x > BigInt(cap)) throw new TemplateFuncError(`index out of range: ${x}`);
  return Number(x);
}

function index(item: GoValue, indexes: readonly GoValue[]): GoValue {
  if (item === undefined) throw new TemplateFuncError("index of untyped nil");
  for (const ix of indexes) {
    if (typeof item === "string" || item instanceof GoSlice) {
      const len: number = typeof item === "string" ? byteLength(item) : item.items.length;
      const x = indexArg(ix, len);
      // indexArg admits x == len (it serves slice too); reflect's Index then panics.
      if (x === len) throw new TemplateFuncError(`index out of range: ${x}`);
      item = typeof item === "string" ? new GoUint8(utf8Bytes(item)[x]!) : item.items[x];
    } else if (item instanceof GoMap) {
      if (ix === undefined) throw new TemplateFuncError("value is nil; should be of type string");
      if (typeof ix !== "string") throw new TemplateFuncError(`value has type ${typeName(ix)}; should be string`);
      item = item.entries.has(ix) ? item.entries.get(ix) : item.zero;
    } else {
      throw new TemplateFuncError(`can't index item of type ${typeName(item)}`);
    }
  }
  return item;
}

function slice(item: GoValue, indexes: readonly GoValue[]): GoValue {
  if (item === undefined) throw new TemplateFuncError("slice of untyped nil");
  if (indexes.length > 3) throw new TemplateFuncError(`too many slice indexes: ${indexes.length}`);
  let len: number;
  if (typeof item === "string") {
    if (indexes.length === 3) throw new TemplateFuncError("cannot 3-index slice a string");
    len = byteLength(item);
  } else if (item instanceof GoSlice) {
    len = item.items.length; // maand's lists have no spare capacity
  } else {
    throw new TemplateFuncError(`can't slice item of type ${typeName(item)}`);
  }
  const idx = [0, len, len];
  indexes.forEach((ix, i) => (idx[i] = indexArg(ix, len)));
  if (idx[0]! > idx[1]!) throw new TemplateFuncError(`invalid slice index: ${idx[0]} > ${idx[1]}`);
  if (indexes.length === 3 && idx[1]! > idx[2]!) throw new TemplateFuncError(`invalid slice index: ${idx[1]} > ${idx[2]}`);
  return typeof item === "string" ? byteSlice(item, idx[0]!, idx[1]!) : new GoSlice(item.elem, item.items.slice(idx[0], idx[1]));
}

function length(item: GoValue): bigint {
  if (typeof item === "string") return BigInt(byteLength(item));
  if (item instanceof GoSlice) return BigInt(item.items.length);
  if (item instanceof GoMap) return BigInt(item.entries.size);
  if (item === undefined) throw new TemplateFuncError("len of untyped nil");
  throw new TemplateFuncError(`len of type ${typeName(item)}`);
}

/** The escapers' argument rule (funcs.go evalArgs): one string as is, else fmt.Sprint. */
function escaperArg(args: readonly GoValue[]): string {
  if (args.length === 1 && typeof args[0] === "string") return args[0];
  return sprint(args.map((a) => (a === undefined ? "<no value>" : a)));
}

const HTML_ESCAPES: Record<string, string> = { "\0": "\uFFFD", '"': "&#34;", "'": "&#39;", "&": "&amp;", "<": "&lt;", ">": "&gt;" };

function htmlEscape(s: string): string {
  return s.replace(/[\0"'&<>]/g, (c) => HTML_ESCAPES[c]!);
}

const JS_ESCAPES: Record<string, string> = { "\\": "\\\\", "'": "\\'", '"': '\\"', "<": "\\u003C", ">": "\\u003E", "&": "\\u0026", "=": "\\u003D" };

function jsEscape(s: string): string {
  let out = "";
  for (const ch of s) {
    const r = ch.codePointAt(0)!;
    if (JS_ESCAPES[ch] !== undefined) out += JS_ESCAPES[ch];
    else if (r < 0x20) out += "\\u00" + r.toString(16).toUpperCase().padStart(2, "0");
    else if (r < 0x80 || isPrint(r)) out += ch;
    else out += "\\u" + r.toString(16).toUpperCase().padStart(4, "0");
  }
  return out;
}

/** url.QueryEscape: everything but ASCII letters, digits and -_.~ is %XX; space becomes '+'. */
function urlQueryEscape(s: string): string {
  let out = "";
  for (const b of utf8Bytes(s)) {
    const c = String.fromCharCode(b);
    if (/[A-Za-z0-9\-_.~]/.test(c)) out += c;
    else if (c === " ") out += "+";
    else out += "%" + b.toString(16).toUpperCase().padStart(2, "0");
  }
  return out;
}

const ANY_THEN_ANY: Pick<TemplateFunc, "params" | "variadic"> = { params: ["any"], variadic: "any" };

export const BUILTINS: ReadonlyMap<string, TemplateFunc> = new Map<string, TemplateFunc>([
  ["and", { ...ANY_THEN_ANY, call: () => undefined }],
  ["or", { ...ANY_THEN_ANY, call: () => undefined }],
  ["not", { params: ["any"], call: ([a]) => !isTrue(a) }],
  ["len", { params: ["any"], call: ([a]) => length(a) }],
  ["index", { ...ANY_THEN_ANY, call: ([item, ...ix]) => index(item, ix) }],
  ["slice", { ...ANY_THEN_ANY, call: ([item, ...ix]) => slice(item, ix) }],
  ["eq", { ...ANY_THEN_ANY, call: ([a, ...rest]) => eq(a, rest) }],
  ["ne", { params: ["any", "any"], call: ([a, b]) => !eq(a, [b]) }],
  ["lt", { params: ["any", "any"], call: ([a, b]) => lt(a, b) }],
  ["le", { params: ["any", "any"], call: ([a, b]) => le(a, b) }],
  ["gt", { params: ["any", "any"], call: ([a, b]) => !le(a, b) }],
  ["ge", { params: ["any", "any"], call: ([a, b]) => !lt(a, b) }],
  ["print", { params: [], variadic: "any", call: (args) => sprint(args) }],
  ["printf", { params: ["string"], variadic: "any", call: ([format, ...args]) => sprintf(format as string, args) }],
  ["println", { params: [], variadic: "any", call: (args) => sprintln(args) }],
  ["html", { params: [], variadic: "any", call: (args) => htmlEscape(escaperArg(args)) }],
  ["js", { params: [], variadic: "any", call: (args) => jsEscape(escaperArg(args)) }],
  ["urlquery", { params: [], variadic: "any", call: (args) => urlQueryEscape(escaperArg(args)) }],
  [
    "call",
    {
      ...ANY_THEN_ANY,
      // maand's data holds no function values, so there is never anything to call.
      call: ([fn]) => {
        throw new TemplateFuncError(fn === undefined ? "call of nil" : `non-function of type ${typeName(fn)}`);
      },
    },
  ],
]);
