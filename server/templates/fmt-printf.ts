/**
 * Go's Sprintf format strings (print.go doPrintf): flags, explicit argument indexes [n], '*'
 * widths and precisions from arguments, and the %!(BADWIDTH), %!(BADPREC), %!v(BADINDEX),
 * %!v(MISSING), %!(NOVERB) and %!(EXTRA ...) reports Go writes into the output for mistakes.
 */
import { Printer } from "./fmt-print.js";
import { GoUint8, typeName, type GoValue } from "./values.js";

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

function doPrintf(p: Printer, format: string, a: readonly GoValue[]): void {
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
    if (i > lasti) p.buf += format.slice(lasti, i);
    if (i >= end) break;
    i++; // the '%'
    p.clearFlags();
    simple: for (; i < end; i++) {
      const c = format[i]!;
      switch (c) {
        case "#":
          p.sharp = true;
          break;
        case "0":
          p.zero = !p.minus; // zero padding only to the left
          break;
        case "+":
          p.plus = true;
          break;
        case "-":
          p.minus = true;
          p.zero = false;
          break;
        case " ":
          p.space = true;
          break;
        default:
          // Fast path: a lower-case verb right after the flags.
          if (c >= "a" && c <= "z" && argNum < a.length) {
            if (c === "v") p.setV();
            p.printArg(a[argNum]!, c);
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
      p.wid = w.num;
      p.widPresent = w.isInt;
      argNum = w.next;
      if (!p.widPresent) p.buf += "%!(BADWIDTH)";
      if (p.wid < 0) {
        p.wid = -p.wid;
        p.minus = true;
        p.zero = false;
      }
      afterIndex = false;
    } else {
      const n = parseNum(format, i, end);
      p.wid = n.num;
      p.widPresent = n.isNum;
      i = n.next;
      if (afterIndex && p.widPresent) goodArgNum = false; // "%[3]2d"
    }

    if (i + 1 < end && format[i] === ".") {
      i++;
      if (afterIndex) goodArgNum = false; // "%[3].2d"
      ({ i, found: afterIndex } = argNumber(i));
      if (i < end && format[i] === "*") {
        i++;
        const star = intFromArg(a, argNum);
        p.prec = star.num;
        p.precPresent = star.isInt;
        argNum = star.next;
        if (p.prec < 0) {
          p.prec = 0;
          p.precPresent = false;
        }
        if (!p.precPresent) p.buf += "%!(BADPREC)";
        afterIndex = false;
      } else {
        const n = parseNum(format, i, end);
        p.prec = n.num;
        p.precPresent = n.isNum;
        i = n.next;
        if (!p.precPresent) {
          p.prec = 0;
          p.precPresent = true;
        }
      }
    }

    if (!afterIndex) ({ i, found: afterIndex } = argNumber(i));

    if (i >= end) {
      p.buf += "%!(NOVERB)";
      break;
    }
    const verb = String.fromCodePoint(format.codePointAt(i)!);
    i += verb.length;

    if (verb === "%") p.buf += "%"; // takes no operand, ignores width and precision
    else if (!goodArgNum) p.buf += `%!${verb}(BADINDEX)`;
    else if (argNum >= a.length) p.buf += `%!${verb}(MISSING)`;
    else {
      if (verb === "v") p.setV();
      p.printArg(a[argNum]!, verb);
      argNum++;
    }
  }

  if (!reordered && argNum < a.length) {
    p.clearFlags();
    p.buf += "%!(EXTRA ";
    a.slice(argNum).forEach((arg, k) => {
      if (k > 0) p.buf += ", ";
      if (arg === undefined) p.buf += "<nil>";
      else {
        p.buf += typeName(arg) + "=";
        p.printArg(arg, "v");
      }
    });
    p.buf += ")";
  }
}

/** fmt.Sprintf. */
export function sprintf(format: string, args: readonly GoValue[]): string {
  const p = new Printer();
  doPrintf(p, format, args);
  return p.buf;
}
