/**
 * The printing half of Go's fmt (print.go) over the engine's Go values: Sprint, Sprintln, one
 * value per verb with %!verb(type=value) for a bad verb, and %v of slices, maps (sorted keys) and
 * structs. Sprintf's format strings are read in fmt-printf.ts. %p prints %!p(...): Go prints
 * a memory address there, which no other implementation can reproduce.
 */
import { Formatter } from "./fmt-format.js";
import { compareGo } from "./go-strings.js";
import { GoMap, GoSlice, GoStruct, GoUint8, typeName, type GoValue } from "./values.js";

export class Printer extends Formatter {
  badVerb(verb: string, value: GoValue): void {
    this.buf += "%!" + verb + "(";
    if (value === undefined) this.buf += "<nil>";
    else {
      this.buf += typeName(value) + "=";
      this.printValue(value, "v", 0);
    }
    this.buf += ")";
  }

  printArg(arg: GoValue, verb: string): void {
    if (arg === undefined) {
      if (verb === "T" || verb === "v") this.pad("<nil>");
      else this.badVerb(verb, undefined);
      return;
    }
    if (verb === "T") {
      this.fmtS(typeName(arg));
      return;
    }
    if (verb === "p") {
      this.badVerb(verb, arg);
      return;
    }
    this.printValue(arg, verb, 0);
  }

  printValue(v: GoValue, verb: string, depth: number): void {
    switch (typeof v) {
      case "string":
        return this.fmtString(v, verb);
      case "bigint":
        return this.fmtInt(v, true, verb);
      case "number":
        return this.fmtFloat64(v, verb);
      case "boolean":
        if (verb === "t" || verb === "v") this.fmtBoolean(v);
        else this.badVerb(verb, v);
        return;
      case "undefined":
        // Only reachable inside a container, where Go prints a nil interface as <nil>.
        if (verb === "v") this.buf += "<nil>";
        else this.badVerb(verb, v);
        return;
    }
    if (v instanceof GoUint8) return this.fmtInt(BigInt(v.value), false, verb);
    if (v instanceof GoSlice) {
      if (this.sharpV) {
        this.buf += typeName(v) + "{";
        v.items.forEach((item, i) => {
          if (i > 0) this.buf += ", ";
          this.printValue(item, verb, depth + 1);
        });
        this.buf += "}";
        return;
      }
      this.buf += "[";
      v.items.forEach((item, i) => {
        if (i > 0) this.buf += " ";
        this.printValue(item, verb, depth + 1);
      });
      this.buf += "]";
      return;
    }
    if (v instanceof GoMap) {
      this.buf += this.sharpV ? typeName(v) + "{" : "map[";
      [...v.entries.keys()].sort(compareGo).forEach((k, i) => {
        if (i > 0) this.buf += this.sharpV ? ", " : " ";
        this.printValue(k, verb, depth + 1);
        this.buf += ":";
        this.printValue(v.entries.get(k), verb, depth + 1);
      });
      this.buf += this.sharpV ? "}" : "]";
      return;
    }
    if (v instanceof GoStruct) {
      if (this.sharpV) this.buf += v.typeName;
      this.buf += "{";
      let i = 0;
      for (const [name, field] of v.fields) {
        if (i++ > 0) this.buf += this.sharpV ? ", " : " ";
        if (this.plusV || this.sharpV) this.buf += name + ":";
        this.printValue(field, verb, depth + 1);
      }
      this.buf += "}";
    }
  }

  private fmtInt(v: bigint, signed: boolean, verb: string): void {
    const bits = () => BigInt.asUintN(64, v);
    switch (verb) {
      case "v":
        if (this.sharpV && !signed) {
          const sharp = this.sharp;
          this.sharp = true;
          this.fmtInteger(v, 16, "v");
          this.sharp = sharp;
        } else this.fmtInteger(v, 10, verb);
        return;
      case "d":
        return this.fmtInteger(v, 10, verb);
      case "b":
        return this.fmtInteger(v, 2, verb);
      case "o":
      case "O":
        return this.fmtInteger(v, 8, verb);
      case "x":
        return this.fmtInteger(v, 16, verb);
      case "X":
        return this.fmtInteger(v, 16, verb, true);
      case "c":
        return this.fmtC(bits());
      case "q":
        return this.fmtQc(bits());
      case "U":
        return this.fmtUnicode(bits());
    }
    this.badVerb(verb, signed ? v : new GoUint8(Number(v)));
  }

  private fmtFloat64(v: number, verb: string): void {
    switch (verb) {
      case "v":
        return this.fmtFloat(v, "g", -1);
      case "b":
      case "g":
      case "G":
      case "x":
      case "X":
        return this.fmtFloat(v, verb, -1);
      case "f":
      case "e":
      case "E":
        return this.fmtFloat(v, verb, 6);
      case "F":
        return this.fmtFloat(v, "f", 6);
    }
    this.badVerb(verb, v);
  }

  private fmtString(v: string, verb: string): void {
    switch (verb) {
      case "v":
        if (this.sharpV) this.fmtQ(v);
        else this.fmtS(v);
        return;
      case "s":
        return this.fmtS(v);
      case "x":
        return this.fmtSx(v, false);
      case "X":
        return this.fmtSx(v, true);
      case "q":
        return this.fmtQ(v);
    }
    this.badVerb(verb, v);
  }

  /** %v takes '#' as Go syntax and '+' as field names instead of their usual meaning. */
  setV(): void {
    this.sharpV = this.sharp;
    this.sharp = false;
    this.plusV = this.plus;
    this.plus = false;
  }
}

/** fmt.Sprint: a space between operands when neither side is a string. */
export function sprint(args: readonly GoValue[]): string {
  if (args.length === 1) return formatValue(args[0]);
  const p = new Printer();
  let prevString = false;
  args.forEach((arg, i) => {
    const isString = typeof arg === "string";
    if (i > 0 && !isString && !prevString) p.buf += " ";
    p.clearFlags();
    p.printArg(arg, "v");
    prevString = isString;
  });
  return p.buf;
}

/** fmt.Sprintln: spaces between all operands, and a newline. */
export function sprintln(args: readonly GoValue[]): string {
  const p = new Printer();
  args.forEach((arg, i) => {
    if (i > 0) p.buf += " ";
    p.clearFlags();
    p.printArg(arg, "v");
  });
  return p.buf + "\n";
}

/** fmt.Sprint of one value (%v), with fast paths for what templates print most. */
export function formatValue(v: GoValue): string {
  if (typeof v === "string") return v;
  if (typeof v === "bigint") return v.toString();
  if (v === undefined) return "<nil>";
  const p = new Printer();
  p.printArg(v, "v");
  return p.buf;
}
