/**
 * The Go values a template can hold, as the engine represents them. Go's text/template is typed
 * (an int literal and a float literal compare differently, `index` of a string yields a byte), so
 * each Go type maand can meet gets a distinct JS shape:
 *
 *   string -> string      int -> bigint (64-bit wrap-around and full-range literals, as in Go)
 *   float64 -> number     bool -> boolean      uint8 -> GoUint8 (only `index` on a string)
 *   []string -> GoSlice   map[string]T -> GoMap   struct -> GoStruct
 *   undefined -> Go's "no value" (an invalid reflect.Value, or a nil interface{} argument)
 */
export class GoUint8 {
  constructor(readonly value: number) {}
}

export class GoSlice {
  constructor(
    /** Go type name of the elements, for %T and error messages. */
    readonly elem: string,
    readonly items: readonly GoValue[],
  ) {}
}

export class GoMap {
  constructor(
    readonly elem: string,
    /** What `index` returns for a missing key: the zero value of the element type. */
    readonly zero: GoValue,
    readonly entries: ReadonlyMap<string, GoValue>,
  ) {}
}

export class GoStruct {
  constructor(
    readonly typeName: string,
    /** In declaration order: %v of a struct prints its fields in that order. */
    readonly fields: ReadonlyMap<string, GoValue>,
  ) {}
}

export type GoValue = string | bigint | number | boolean | GoUint8 | GoSlice | GoMap | GoStruct | undefined;

export function stringSlice(items: readonly string[]): GoSlice {
  return new GoSlice("string", items);
}

/** Go's name for the value's type, as %T and reflect print it. */
export function typeName(v: GoValue): string {
  switch (typeof v) {
    case "string":
      return "string";
    case "bigint":
      return "int";
    case "number":
      return "float64";
    case "boolean":
      return "bool";
    case "undefined":
      return "<nil>";
  }
  if (v instanceof GoUint8) return "uint8";
  if (v instanceof GoSlice) return `[]${v.elem}`;
  if (v instanceof GoMap) return `map[string]${v.elem}`;
  return v.typeName;
}

/** text/template's notion of truth (exec.go isTrue): the zero value of any type is false. */
export function isTrue(v: GoValue): boolean {
  switch (typeof v) {
    case "string":
      return v.length > 0;
    case "bigint":
      return v !== 0n;
    case "number":
      return v !== 0;
    case "boolean":
      return v;
    case "undefined":
      return false;
  }
  if (v instanceof GoUint8) return v.value !== 0;
  if (v instanceof GoSlice) return v.items.length > 0;
  if (v instanceof GoMap) return v.entries.size > 0;
  return true;
}

/** Wraps a JS integer result into Go's 64-bit int. */
export function goInt(n: bigint): bigint {
  return BigInt.asIntN(64, n);
}
