/**
 * Go 1.19's comparison built-ins (funcs.go eq, ne, lt, le, gt, ge): basic kinds compare only with
 * the same kind (int with uint excepted), so `eq 1 "1"` and `eq 1 1.0` are errors, while `eq`
 * stops at the first match and so never looks at later, possibly incompatible, arguments.
 */
import { TemplateFuncError } from "./errors.js";
import { sprint } from "./fmt-print.js";
import { compareGo } from "./go-strings.js";
import { GoMap, GoSlice, GoUint8, typeName, type GoValue } from "./values.js";

type Kind = "bool" | "int" | "uint" | "float" | "string" | "invalid";

function basicKind(v: GoValue): Kind {
  switch (typeof v) {
    case "boolean":
      return "bool";
    case "bigint":
      return "int";
    case "number":
      return "float";
    case "string":
      return "string";
  }
  return v instanceof GoUint8 ? "uint" : "invalid";
}

const BAD_TYPE = "invalid type for comparison";
const INCOMPATIBLE = "incompatible types for comparison";

/** reflect.Kind of a non-basic value, for canCompare. */
function reflectKind(v: GoValue): string {
  if (v === undefined) return "invalid";
  if (v instanceof GoSlice) return "slice";
  if (v instanceof GoMap) return "map";
  return "struct";
}

function intOf(v: GoValue): bigint {
  return typeof v === "bigint" ? v : BigInt((v as GoUint8).value);
}

function eqOne(a: GoValue, b: GoValue): boolean {
  const k1 = basicKind(a);
  const k2 = basicKind(b);
  if (k1 !== k2) {
    if ((k1 === "int" && k2 === "uint") || (k1 === "uint" && k2 === "int")) return intOf(a) === intOf(b);
    if (a !== undefined && b !== undefined) throw new TemplateFuncError(INCOMPATIBLE);
    return false;
  }
  switch (k1) {
    case "uint":
      return (a as GoUint8).value === (b as GoUint8).value;
    case "bool":
    case "int":
    case "float":
    case "string":
      return a === b;
  }
  // Lists, maps, the dot, or no value.
  const r1 = reflectKind(a);
  const r2 = reflectKind(b);
  if (r1 !== r2 && r1 !== "invalid" && r2 !== "invalid") {
    throw new TemplateFuncError(`non-comparable types ${sprint([a])}: ${typeName(a)}, ${typeName(b)}: ${sprint([b])}`);
  }
  if (a === undefined || b === undefined) return a === b;
  // Slices and maps are not comparable in Go, nor is a struct holding one (maand's dot has Labels).
  throw new TemplateFuncError(`non-comparable type ${sprint([b])}: ${typeName(b)}`);
}

/** eq arg1 arg2...: true if arg1 equals any of the others. */
export function eq(arg1: GoValue, rest: readonly GoValue[]): boolean {
  if (rest.length === 0) throw new TemplateFuncError("missing argument for comparison");
  for (const b of rest) if (eqOne(arg1, b)) return true;
  return false;
}

export function lt(a: GoValue, b: GoValue): boolean {
  const k1 = basicKind(a);
  if (k1 === "invalid") throw new TemplateFuncError(BAD_TYPE);
  const k2 = basicKind(b);
  if (k2 === "invalid") throw new TemplateFuncError(BAD_TYPE);
  if (k1 !== k2) {
    if ((k1 === "int" && k2 === "uint") || (k1 === "uint" && k2 === "int")) return intOf(a) < intOf(b);
    throw new TemplateFuncError(INCOMPATIBLE);
  }
  switch (k1) {
    case "bool":
      throw new TemplateFuncError(BAD_TYPE);
    case "string":
      return compareGo(a as string, b as string) < 0;
    case "uint":
      return (a as GoUint8).value < (b as GoUint8).value;
  }
  return (a as number | bigint) < (b as number | bigint);
}

export function le(a: GoValue, b: GoValue): boolean {
  return lt(a, b) || eq(a, [b]);
}
