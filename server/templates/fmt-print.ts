/**
 * The printing half of Go's fmt (print.go) over the engine's Go values: Sprint, Sprintln and
 * Sprintf with Go's verbs, argument indexes, %!verb(type=value) for a bad verb, %!v(MISSING),
 * %!(EXTRA ...), and %v of slices, maps (sorted keys) and structs. %p prints %!p(...): Go prints
 * a memory address there, which no other implementation can reproduce.
 */
import { Formatter } from "./fmt-format.js";
import { compareGo } from "./go-strings.js";
import { GoMap, GoSlice, GoStruct, GoUint8, typeName, type GoValue } from "./values.js";

class Printer extends Formatter {
  /** The top-level argument being printed, for %!verb(type=value). */
  private arg: GoValue | null = null;

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
    this.arg = arg;
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

  doPrintf(format: string, a: readonly GoValue[]): void {
    const end = format.length;
    let argNum = 0;
    let afterIndex = false;
    let reordered = false;
    let goodArgNum = true;

    // argNumber: an explicit [n] index at format[i], if any.
    const argNumber = (i: number): { i: number; found: boolean } => {
      if (i >= end || format[i] !== "[") return { i, found: false };
      reordered = true;
      const close = format.indexOf("]", i + 1);
      if (end - i < 3 || close < 0) {
        goodArgNum = false;
        return { i: i + 1, found: false };
      }
      const n = parseNum(format, i + 1, close);
      if (!n.isNum || n.next !== close) {
        goodArgNum = false;
        return { i: close + 1, found: false };
      }
      const index = n.num - 1;
      if (index >= 0 && index < a.length) {
        argNum = index;
        return { i: close + 1, found: true };
      }
      goodArgNum = false;
      return { i: close + 1, found: true };
    };

    let i = 0;
    formatLoop: while (i < end) {
      goodArgNum = true;
      const lasti = i;
      while (i < end && format[i] !== "%") i++;
      if (i > lasti) this.buf += format.slice(lasti, i);
      if (i >= end) break;
      i++; // the '%'
      this.clearFlags();
      simple: for (; i < end; i++) {
        const c = format[i]!;
        switch (c) {
          case "#":
            this.sharp = true;
            break;
          case "0":
            this.zero = !this.minus; // zero padding only to the left
            break;
          case "+":
            this.plus = true;
            break;
          case "-":
            this.minus = true;
            this.zero = false;
            break;
          case " ":
            this.space = true;
            break;
          default:
            // Fast path: a lower-case verb right after the flags.
            if (c >= "a" && c <= "z" && argNum < a.length) {
              if (c === "v") this.setV();
              this.printArg(a[argNum]!, c);
              argNum++;
              i++;
              continue formatLoop;
            }
            break simple;
        }
      }

      ({ i, found: afterIndex } = argNumber(i));

      if (i < end && format[i] === "*") {
        i++;
        const w = intFromArg(a, argNum);
        this.wid = w.num;
        this.widPresent = w.isInt;
        argNum = w.next;
        if (!this.widPresent) this.buf += "%!(BADWIDTH)";
        if (this.wid < 0) {
          this.wid = -this.wid;
          this.minus = true;
          this.zero = false;
        }
        afterIndex = false;
      } else {
        const n = parseNum(format, i, end);
        this.wid = n.num;
        this.widPresent = n.isNum;
        i = n.next;
        if (afterIndex && this.widPresent) goodArgNum = false; // "%[3]2d"
      }

      if (i + 1 < end && format[i] === ".") {
        i++;
        if (afterIndex) goodArgNum = false; // "%[3].2d"
        ({ i, found: afterIndex } = argNumber(i));
        if (i < end && format[i] === "*") {
          i++;
          const p = intFromArg(a, argNum);
          this.prec = p.num;
          this.precPresent = p.isInt;
          argNum = p.next;
          if (this.prec < 0) {
            this.prec = 0;
            this.precPresent = false;
          }
          if (!this.precPresent) this.buf += "%!(BADPREC)";
          afterIndex = false;
        } else {
          const n = parseNum(format, i, end);
          this.prec = n.num;
          this.precPresent = n.isNum;
          i = n.next;
          if (!this.precPresent) {
            this.prec = 0;
            this.precPresent = true;
          }
        }
      }

      if (!afterIndex) ({ i, found: afterIndex } = argNumber(i));

      if (i >= end) {
        this.buf += "%!(NOVERB)";
        break;
      }
      const verb = String.fromCodePoint(format.codePointAt(i)!);
      i += verb.length;

      if (verb === "%") this.buf += "%"; // takes no operand, ignores width and precision
      else if (!goodArgNum) this.buf += `%!${verb}(BADINDEX)`;
      else if (argNum >= a.length) this.buf += `%!${verb}(MISSING)`;
      else {
        if (verb === "v") this.setV();
        this.printArg(a[argNum]!, verb);
        argNum++;
      }
    }

    if (!reordered && argNum < a.length) {
      this.clearFlags();
      this.buf += "%!(EXTRA ";
      a.slice(argNum).forEach((arg, k) => {
        if (k > 0) this.buf += ", ";
        if (arg === undefined) this.buf += "<nil>";
        else {
          this.buf += typeName(arg) + "=";
          this.printArg(arg, "v");
        }
      });
      this.buf += ")";
    }
  }

  /** %v takes '#' as Go syntax and '+' as field names instead of their usual meaning. */
  private setV(): void {
    this.sharpV = this.sharp;
    this.sharp = false;
    this.plusV = this.plus;
    this.plus = false;
  }
}

const TOO_LARGE = 1e6;

function parseNum(s: string, start: number, end: number): { num: number; isNum: boolean; next: number } {
  if (start >= end) return { num: 0, isNum: false, next: end };
  let num = 0;
  let isNum = false;
  let i = start;
  for (; i < end && s[i]! >= "0" && s[i]! <= "9"; i++) {
    if (num > TOO_LARGE) return { num: 0, isNum: false, next: end }; // absurdly long number
    num = num * 10 + (s.charCodeAt(i) - 48);
    isNum = true;
  }
  return { num, isNum, next: i };
}

/** A '*' width or precision: the argument must be an integer of sane size. */
function intFromArg(a: readonly GoValue[], argNum: number): { num: number; isInt: boolean; next: number } {
  if (argNum >= a.length) return { num: 0, isInt: false, next: argNum };
  const v = a[argNum];
  let num = 0;
  let isInt = false;
  if (typeof v === "bigint") {
    num = Number(v);
    isInt = true;
  } else if (v instanceof GoUint8) {
    num = v.value;
    isInt = true;
  }
  if (num > TOO_LARGE || num < -TOO_LARGE) return { num: 0, isInt: false, next: argNum + 1 };
  return { num, isInt, next: argNum + 1 };
}

/** fmt.Sprintf. */
export function sprintf(format: string, args: readonly GoValue[]): string {
  const p = new Printer();
  p.doPrintf(format, args);
  return p.buf;
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
