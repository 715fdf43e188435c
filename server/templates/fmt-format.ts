/**
 * The formatting half of Go's fmt package (format.go): flags, width and precision, padding, and
 * the integer, float, string, rune and boolean primitives. Ported so printf pads and prefixes
 * exactly as Go does (%05d of -42 is "-0042", %-5q, %#x, %+.2e, ...).
 */
import { formatFloat, formatFloatBinary } from "./fmt-float.js";
import { canBackquote, isPrint, quote, quoteRune } from "./fmt-quote.js";
import { runeCount, utf8Bytes } from "./go-strings.js";

export class Formatter {
  buf = "";
  widPresent = false;
  precPresent = false;
  minus = false;
  plus = false;
  sharp = false;
  space = false;
  zero = false;
  plusV = false;
  sharpV = false;
  wid = 0;
  prec = 0;

  clearFlags(): void {
    this.widPresent = this.precPresent = this.minus = this.plus = this.sharp = this.space = this.zero = this.plusV = this.sharpV = false;
    this.wid = this.prec = 0;
  }

  writePadding(n: number): void {
    if (n > 0) this.buf += (this.zero ? "0" : " ").repeat(n);
  }

  /** Appends s padded to the width, on the left unless '-' was given. */
  pad(s: string): void {
    if (!this.widPresent || this.wid === 0) {
      this.buf += s;
      return;
    }
    const width = this.wid - runeCount(s);
    if (!this.minus) {
      this.writePadding(width);
      this.buf += s;
    } else {
      this.buf += s;
      this.writePadding(width);
    }
  }

  fmtBoolean(v: boolean): void {
    this.pad(v ? "true" : "false");
  }

  /** fmt.fmtInteger. v is the value (negative only when signed); upper selects "ABCDEF" and "0X". */
  fmtInteger(v: bigint, base: 2 | 8 | 10 | 16, verb: string, upper = false): void {
    const negative = v < 0n;
    const u = negative ? -v : v;
    let prec = 0;
    if (this.precPresent) {
      prec = this.prec;
      // Precision 0 and value 0 print nothing but the padding.
      if (prec === 0 && u === 0n) {
        const zero = this.zero;
        this.zero = false;
        this.writePadding(this.wid);
        this.zero = zero;
        return;
      }
    } else if (this.zero && this.widPresent) {
      prec = this.wid;
      if (negative || this.plus || this.space) prec--; // leave room for the sign
    }
    let digits = u.toString(base);
    if (upper) digits = digits.toUpperCase();
    if (digits.length < prec) digits = "0".repeat(prec - digits.length) + digits;
    if (this.sharp) {
      if (base === 2) digits = "0b" + digits;
      else if (base === 8 && digits[0] !== "0") digits = "0" + digits;
      else if (base === 16) digits = (upper ? "0X" : "0x") + digits;
    }
    if (verb === "O") digits = "0o" + digits;
    if (negative) digits = "-" + digits;
    else if (this.plus) digits = "+" + digits;
    else if (this.space) digits = " " + digits;
    // Zero padding was done above as precision, or is overridden by an explicit precision.
    const zero = this.zero;
    this.zero = false;
    this.pad(digits);
    this.zero = zero;
  }

  /** %U: U+0041, and with '#' also the character: U+0041 'A'. u is the uint64 bit pattern. */
  fmtUnicode(u: bigint): void {
    let prec = 4;
    if (this.precPresent && this.prec > 4) prec = this.prec;
    let s = u.toString(16).toUpperCase();
    if (s.length < prec) s = "0".repeat(prec - s.length) + s;
    s = "U+" + s;
    if (this.sharp && u <= 0x10ffffn && isPrint(Number(u))) s += ` '${String.fromCodePoint(Number(u))}'`;
    const zero = this.zero;
    this.zero = false;
    this.pad(s);
    this.zero = zero;
  }

  /** %c. u is the uint64 bit pattern; anything that is not a valid rune prints as U+FFFD. */
  fmtC(u: bigint): void {
    this.pad(String.fromCodePoint(toRune(u)));
  }

  /** %q of an integer: a quoted rune. */
  fmtQc(u: bigint): void {
    this.pad(quoteRune(toRune(u), this.plus));
  }

  /** fmt.fmtFloat: verb is the strconv format, prec the default precision (-1: shortest). */
  fmtFloat(v: number, verb: "b" | "g" | "G" | "x" | "X" | "f" | "e" | "E", prec: number): void {
    if (this.precPresent) prec = this.prec;
    let num = verb === "b" || verb === "x" || verb === "X" ? formatFloatBinary(v, verb, prec) : formatFloat(v, verb, prec);
    // num gets a leading sign character either way; strconv only writes '-'.
    num = num[0] === "-" || num[0] === "+" ? num : "+" + num;
    if (this.space && num[0] === "+" && !this.plus) num = " " + num.slice(1);
    if (num[1] === "I" || num[1] === "N") {
      const zero = this.zero;
      this.zero = false;
      if (num[1] === "N" && !this.space && !this.plus) num = num.slice(1);
      this.pad(num);
      this.zero = zero;
      return;
    }
    if (this.sharp && verb !== "b") num = sharpFloat(num, verb, prec);
    if (this.plus || num[0] !== "+") {
      // With zero padding the sign goes before the zeros.
      if (this.zero && this.widPresent && this.wid > num.length) {
        this.buf += num[0];
        this.writePadding(this.wid - num.length);
        this.buf += num.slice(1);
        return;
      }
      this.pad(num);
      return;
    }
    this.pad(num.slice(1));
  }

  private truncate(s: string): string {
    if (this.precPresent) {
      const chars = Array.from(s);
      if (chars.length > this.prec) return chars.slice(0, this.prec).join("");
    }
    return s;
  }

  fmtS(s: string): void {
    this.pad(this.truncate(s));
  }

  /** %x / %X of a string: its UTF-8 bytes in hex, with ' ' and '#' variants. */
  fmtSx(s: string, upper: boolean): void {
    const bytes = utf8Bytes(s);
    let length = bytes.length;
    if (this.precPresent && this.prec < length) length = this.prec;
    let width = 2 * length;
    if (width > 0) {
      if (this.space) {
        if (this.sharp) width *= 2;
        width += length - 1;
      } else if (this.sharp) {
        width += 2;
      }
    } else {
      if (this.widPresent) this.writePadding(this.wid);
      return;
    }
    if (this.widPresent && this.wid > width && !this.minus) this.writePadding(this.wid - width);
    const prefix = upper ? "0X" : "0x";
    let out = this.sharp ? prefix : "";
    for (let i = 0; i < length; i++) {
      if (this.space && i > 0) out += this.sharp ? " " + prefix : " ";
      const h = bytes[i]!.toString(16).padStart(2, "0");
      out += upper ? h.toUpperCase() : h;
    }
    this.buf += out;
    if (this.widPresent && this.wid > width && this.minus) this.writePadding(this.wid - width);
  }

  /** %q of a string: Go-quoted, or backquoted with '#' when possible, ASCII-only with '+'. */
  fmtQ(s: string): void {
    s = this.truncate(s);
    if (this.sharp && canBackquote(s)) {
      this.pad("`" + s + "`");
      return;
    }
    this.pad(quote(s, this.plus));
  }
}

function toRune(u: bigint): number {
  if (u > 0x10ffffn) return 0xfffd;
  const r = Number(u);
  return r >= 0xd800 && r < 0xe000 ? 0xfffd : r;
}

// '#' with a float verb: always print a decimal point, and for %g keep trailing zeros up to the
// precision (format.go's sharp block).
function sharpFloat(num: string, verb: string, prec: number): string {
  let digits = 0;
  if (verb === "v" || verb === "g" || verb === "G" || verb === "x") digits = prec === -1 ? 6 : prec;
  let tail = "";
  let body = num;
  let hasDecimalPoint = false;
  let sawNonzeroDigit = false;
  for (let i = 1; i < body.length; i++) {
    const c = body[i]!;
    if (c === ".") {
      hasDecimalPoint = true;
      continue;
    }
    if (c === "p" || c === "P" || ((c === "e" || c === "E") && verb !== "x" && verb !== "X")) {
      tail = body.slice(i);
      body = body.slice(0, i);
      break;
    }
    if (c !== "0") sawNonzeroDigit = true;
    if (sawNonzeroDigit) digits--;
  }
  if (!hasDecimalPoint) {
    if (body.length === 2 && body[1] === "0") digits--; // leading zero of 0.xxx
    body += ".";
  }
  while (digits > 0) {
    body += "0";
    digits--;
  }
  return body + tail;
}
