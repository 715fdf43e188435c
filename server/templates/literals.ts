/**
 * Literal syntax as Go reads it: strconv.Unquote for "..." and `...` strings, UnquoteChar for
 * 'c' constants, and the number rules of parse.newNumber (ParseUint/ParseInt with base prefixes
 * and underscores, then ParseFloat). Failures throw LiteralError with Go's wording.
 */
export class LiteralError extends Error {}

const INVALID = "invalid syntax";

function hexDigit(c: string | undefined): number {
  if (c === undefined) return -1;
  const d = parseInt(c, 16);
  return Number.isNaN(d) || !/[0-9a-fA-F]/.test(c) ? -1 : d;
}

/** One character or escape of a quoted literal: strconv.UnquoteChar. `bytes` is Go's !multibyte. */
function unquoteChar(s: string, i: number, quote: string): { value: number; byte: boolean; next: number } {
  const c = s[i];
  if (c === undefined || (c === quote && (quote === "'" || quote === '"'))) throw new LiteralError(INVALID);
  if (c !== "\\") {
    const cp = s.codePointAt(i)!;
    return { value: cp, byte: false, next: i + (cp > 0xffff ? 2 : 1) };
  }
  const e = s[i + 1];
  let j = i + 2;
  const simple: Record<string, number> = { a: 7, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11, "\\": 0x5c };
  if (e !== undefined && e in simple) return { value: simple[e]!, byte: false, next: j };
  if (e === "x" || e === "u" || e === "U") {
    const n = e === "x" ? 2 : e === "u" ? 4 : 8;
    let v = 0;
    for (let k = 0; k < n; k++) {
      const d = hexDigit(s[j + k]);
      if (d < 0) throw new LiteralError(INVALID);
      v = v * 16 + d;
    }
    j += n;
    if (e === "x") return { value: v, byte: true, next: j };
    if (v > 0x10ffff || (v >= 0xd800 && v < 0xe000)) throw new LiteralError(INVALID);
    return { value: v, byte: false, next: j };
  }
  if (e !== undefined && e >= "0" && e <= "7") {
    let v = e.charCodeAt(0) - 48;
    for (let k = 0; k < 2; k++) {
      const d = (s[j + k] ?? "").charCodeAt(0) - 48;
      if (!(d >= 0 && d <= 7)) throw new LiteralError(INVALID);
      v = v * 8 + d;
    }
    if (v > 255) throw new LiteralError(INVALID);
    return { value: v, byte: true, next: j + 2 };
  }
  if ((e === "'" || e === '"') && e === quote) return { value: e.charCodeAt(0), byte: false, next: j };
  throw new LiteralError(INVALID);
}

/** strconv.Unquote of a "..." or `...` token. \x and octal escapes are bytes, decoded as UTF-8. */
export function unquote(token: string): string {
  const quote = token[0];
  if (token.length < 2 || token[token.length - 1] !== quote) throw new LiteralError(INVALID);
  const body = token.slice(1, -1);
  if (quote === "`") {
    if (body.includes("`")) throw new LiteralError(INVALID);
    return body.replaceAll("\r", ""); // Go drops carriage returns from raw strings.
  }
  if (quote !== '"') throw new LiteralError(INVALID);
  if (!body.includes("\\") && !body.includes("\n") && !body.includes('"')) return body;
  const bytes: number[] = [];
  let i = 0;
  while (i < body.length) {
    if (body[i] === "\n") throw new LiteralError(INVALID);
    const ch = unquoteChar(body, i, '"');
    if (ch.byte) bytes.push(ch.value);
    else bytes.push(...Buffer.from(String.fromCodePoint(ch.value), "utf8"));
    i = ch.next;
  }
  return Buffer.from(bytes).toString("utf8");
}

/** The rune of a 'c' character constant token. */
export function unquoteRune(token: string): number {
  const ch = unquoteChar(token, 1, "'");
  if (token.slice(ch.next) !== "'") throw new LiteralError(`malformed character constant: ${token}`);
  return ch.value;
}

/** strconv's underscoreOK: underscores only between digits (or after a base prefix). */
function underscoreOK(s: string): boolean {
  let saw = "^";
  let i = 0;
  if (s[0] === "-" || s[0] === "+") s = s.slice(1);
  let hex = false;
  if (s.length >= 2 && s[0] === "0" && "bBoOxX".includes(s[1]!)) {
    i = 2;
    saw = "0";
    hex = s[1] === "x" || s[1] === "X";
  }
  for (; i < s.length; i++) {
    const c = s[i]!;
    if ((c >= "0" && c <= "9") || (hex && /[a-fA-F]/.test(c))) {
      saw = "0";
      continue;
    }
    if (c === "_") {
      if (saw !== "0") return false;
      saw = "_";
      continue;
    }
    if (saw === "_") return false;
    saw = "!";
  }
  return saw !== "_";
}

const MAX_UINT64 = (1n << 64n) - 1n;

/** strconv.ParseUint(s, 0, 64); undefined on any error. */
function parseUint(s0: string): bigint | undefined {
  let s = s0;
  if (s === "") return undefined;
  let base = 10;
  if (s[0] === "0") {
    const p = s.length >= 3 ? s[1]!.toLowerCase() : "";
    if (p === "b") base = 2;
    else if (p === "o") base = 8;
    else if (p === "x") base = 16;
    else base = 8;
    s = base === 8 && p !== "o" ? s.slice(1) : s.slice(2);
  }
  let n = 0n;
  let underscores = false;
  for (const c of s) {
    if (c === "_") {
      underscores = true;
      continue;
    }
    const d = parseInt(c, 36);
    if (Number.isNaN(d) || d >= base || !/[0-9a-zA-Z]/.test(c)) return undefined;
    n = n * BigInt(base) + BigInt(d);
    if (n > MAX_UINT64) return undefined;
  }
  if (underscores && !underscoreOK(s0)) return undefined;
  return n;
}

/** strconv.ParseInt(s, 0, 64); undefined on any error. */
function parseInt64(s: string): bigint | undefined {
  const neg = s[0] === "-";
  const u = parseUint(s[0] === "-" || s[0] === "+" ? s.slice(1) : s);
  if (u === undefined) return undefined;
  if (neg ? u > 1n << 63n : u >= 1n << 63n) return undefined;
  return neg ? -u : u;
}

const DECIMAL_FLOAT = /^[+-]?(?=\.?[0-9])[0-9_]*(\.[0-9_]*)?([eE][+-]?[0-9_]+)?$/;
const HEX_FLOAT = /^([+-]?)0[xX]([0-9a-fA-F_]*)(?:\.([0-9a-fA-F_]*))?[pP]([+-]?[0-9_]+)$/;

/** strconv.ParseFloat(s, 64); undefined on a syntax error or when out of range (Go's ErrRange). */
export function parseFloat64(s: string): number | undefined {
  if (s.includes("_") && !underscoreOK(s)) return undefined;
  const plain = s.replaceAll("_", "");
  const hex = HEX_FLOAT.exec(plain);
  if (hex) {
    const [, sign, whole, frac = "", exp] = hex;
    if (whole === "" && frac === "") return undefined;
    const mantissa = BigInt("0x0" + whole + frac);
    const v = Number(mantissa) * 2 ** (Number(exp) - 4 * frac.length);
    if (!Number.isFinite(v)) return undefined;
    return sign === "-" ? -v : v;
  }
  if (!DECIMAL_FLOAT.test(plain)) return undefined;
  const v = Number(plain);
  return Number.isFinite(v) ? v : undefined;
}

/** A number literal as parse.NumberNode classifies it. */
export interface NumberInfo {
  isInt: boolean;
  isUint: boolean;
  isFloat: boolean;
  int: bigint;
  float: number;
}

/** parse.newNumber for Number and CharConstant tokens (complex constants are handled by the caller). */
export function parseNumber(text: string, isChar: boolean): NumberInfo {
  if (isChar) {
    const r = unquoteRune(text);
    return { isInt: true, isUint: true, isFloat: true, int: BigInt(r), float: r };
  }
  const n: NumberInfo = { isInt: false, isUint: false, isFloat: false, int: 0n, float: 0 };
  const u = parseUint(text);
  if (u !== undefined) n.isUint = true;
  const i = parseInt64(text);
  if (i !== undefined) {
    n.isInt = true;
    n.int = i;
    if (i === 0n) n.isUint = true; // "-0"
  }
  if (n.isInt) {
    n.isFloat = true;
    n.float = Number(n.int);
  } else if (n.isUint) {
    n.isFloat = true;
    n.float = Number(u);
  } else {
    const f = parseFloat64(text);
    if (f !== undefined) {
      // Parsed as a float but written like an integer: an integer too large for 64 bits.
      if (!/[.eEpP]/.test(text)) throw new LiteralError(`integer overflow: ${JSON.stringify(text)}`);
      n.isFloat = true;
      n.float = f;
      if (Number.isInteger(f) && Math.abs(f) < 2 ** 63) {
        n.isInt = true;
        n.int = BigInt(f);
      }
      if (Number.isInteger(f) && f >= 0 && f < 2 ** 64) n.isUint = true;
    }
  }
  if (!n.isInt && !n.isUint && !n.isFloat) throw new LiteralError(`illegal number syntax: ${JSON.stringify(text)}`);
  return n;
}

/**
 * The value of a number where no parameter type guides it (exec.go idealConstant): float64 when
 * written with '.', an exponent or 'p' (but not a hex int or a character), else int; a literal
 * only a uint64 can hold is an error, raised when executed, as in Go.
 */
export function idealConstant(text: string, n: NumberInfo): { value: number | bigint } | { overflow: string } {
  const hexInt = /^0[xX]/.test(text) && !/[pP]/.test(text);
  if (n.isFloat && !hexInt && text[0] !== "'" && /[.eEpP]/.test(text)) return { value: n.float };
  if (n.isInt) return { value: n.int };
  return { overflow: `${text} overflows int` };
}
