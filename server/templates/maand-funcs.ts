/**
 * maand's template functions (SPEC §12). test/templates/go/render.go implements the same map in
 * Go; the differential test holds the two to the same output. The rules:
 *
 *   get NS KEY          string; a missing key is an error naming key and namespace
 *   getOptional NS KEY  string; "" when missing
 *   getSecret KEY       string from the job's own secrets namespace; getSecret NS KEY from NS;
 *                       missing is an error. No value read from secrets/ or a certificate
 *                       private key (store/kv.ts isEncryptedAtRest), by any function, nor
 *                       one read by getSecret, appears in an error message
 *   keys NS             []string of the live keys, sorted bytewise
 *   split S SEP         []string (strings.Split: SEP "" splits into characters)
 *   join LIST SEP       string; LIST must be a []string (what split, keys and .Labels give)
 *   trim S              strings.TrimSpace (Go's whitespace set)
 *   upper S, lower S    strings.ToUpper / ToLower (per-character simple case mapping)
 *   add sub mul div min max A B
 *                       int, 64-bit wrapping like Go's int; div truncates toward zero and fails
 *                       on zero. Each argument goes through the `int` rule.
 *   int V               an int is itself; a string must be a base-10 integer as strconv.Atoi
 *                       reads it (optional + or -, ASCII digits only, no spaces, no underscores,
 *                       within 64 bits); anything else (float, bool, byte, list, nil) is an error.
 *
 * A namespace the caller may not read (TemplateKv throws) fails get, getOptional, getSecret and
 * keys alike, naming the namespace.
 */
import { TemplateFuncError } from "./errors.js";
import type { CallContext, TemplateFunc } from "./funcs.js";
import { compareGo, split, toLower, toUpper, trimSpace } from "./go-strings.js";
import { goInt, GoSlice, stringSlice, typeName, type GoValue } from "./values.js";
import { isEncryptedAtRest } from "../kv/namespaces.js";

const MIN_INT = -(1n << 63n);
const MAX_INT = (1n << 63n) - 1n;

/** The `int` rule, shared by the arithmetic functions. */
export function toInt(v: GoValue): bigint {
  if (typeof v === "bigint") return v;
  if (typeof v === "string") {
    if (/^[+-]?[0-9]+$/.test(v)) {
      const n = BigInt(v[0] === "+" ? v.slice(1) : v);
      if (n >= MIN_INT && n <= MAX_INT) return n;
    }
    throw new TemplateFuncError(`${JSON.stringify(v)} is not an integer`);
  }
  if (v === undefined) throw new TemplateFuncError("nil is not an integer");
  throw new TemplateFuncError(`cannot convert ${typeName(v)} to int`);
}

function read(ctx: CallContext, namespace: string, key: string): string | undefined {
  let v: string | undefined;
  try {
    v = ctx.kv.get(namespace, key);
  } catch (e) {
    throw new TemplateFuncError(`namespace ${JSON.stringify(namespace)} may not be read: ${(e as Error).message}`, { namespace, key }, { cause: e });
  }
  // Whichever function reads it (get works on secrets/ too), a secret stays out of error messages.
  if (v && isEncryptedAtRest(namespace, key)) ctx.revealed.add(v);
  return v;
}

function arithmetic(op: (a: bigint, b: bigint) => bigint): TemplateFunc {
  return { params: ["any", "any"], call: ([a, b]) => goInt(op(toInt(a), toInt(b))) };
}

const str = (v: GoValue) => v as string;

export const MAAND_FUNCS: ReadonlyMap<string, TemplateFunc> = new Map<string, TemplateFunc>([
  [
    "get",
    {
      params: ["string", "string"],
      call: ([ns, key], ctx) => {
        const v = read(ctx, str(ns), str(key));
        if (v === undefined) throw new TemplateFuncError(`key ${JSON.stringify(key)} not found in namespace ${JSON.stringify(ns)}`, { key: str(key), namespace: str(ns) });
        return v;
      },
    },
  ],
  ["getOptional", { params: ["string", "string"], call: ([ns, key], ctx) => read(ctx, str(ns), str(key)) ?? "" }],
  [
    "getSecret",
    {
      params: [],
      variadic: "string",
      call: (args, ctx) => {
        if (args.length < 1 || args.length > 2) throw new TemplateFuncError(`getSecret takes a key, or a namespace and a key; got ${args.length} arguments`);
        const [ns, key] = args.length === 1 ? [ctx.secretNamespace, str(args[0])] : [str(args[0]), str(args[1])];
        const v = read(ctx, ns, key);
        if (v === undefined) throw new TemplateFuncError(`secret ${JSON.stringify(key)} not found in namespace ${JSON.stringify(ns)}`, { key, namespace: ns });
        if (v !== "") ctx.revealed.add(v);
        return v;
      },
    },
  ],
  [
    "keys",
    {
      params: ["string"],
      call: ([ns], ctx) => {
        let keys: string[];
        try {
          keys = ctx.kv.keys(str(ns));
        } catch (e) {
          throw new TemplateFuncError(`namespace ${JSON.stringify(ns)} may not be read: ${(e as Error).message}`, { namespace: str(ns) }, { cause: e });
        }
        return stringSlice([...keys].sort(compareGo));
      },
    },
  ],
  ["split", { params: ["string", "string"], call: ([s, sep]) => stringSlice(split(str(s), str(sep))) }],
  ["join", { params: ["[]string", "string"], call: ([list, sep]) => (list as GoSlice).items.join(str(sep)) }],
  ["trim", { params: ["string"], call: ([s]) => trimSpace(str(s)) }],
  ["upper", { params: ["string"], call: ([s]) => toUpper(str(s)) }],
  ["lower", { params: ["string"], call: ([s]) => toLower(str(s)) }],
  ["add", arithmetic((a, b) => a + b)],
  ["sub", arithmetic((a, b) => a - b)],
  ["mul", arithmetic((a, b) => a * b)],
  [
    "div",
    arithmetic((a, b) => {
      if (b === 0n) throw new TemplateFuncError("division by zero");
      return a / b;
    }),
  ],
  ["min", arithmetic((a, b) => (b < a ? b : a))],
  ["max", arithmetic((a, b) => (b > a ? b : a))],
  ["int", { params: ["any"], call: ([v]) => toInt(v) }],
]);
