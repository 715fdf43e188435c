/**
 * strconv.FormatFloat for the 'e', 'E', 'f', 'g', 'G' formats. Go rounds the exact binary value
 * half-to-even (%.0f of 2.5 is "2"), JS's toFixed rounds ties away from zero, so fixed precisions
 * are rounded here on the exact decimal expansion of the double. Shortest output (prec < 0) takes
 * its digits from JS, which like Go picks the shortest round-tripping digits closest to the value.
 */

/** Decimal digits (no leading or trailing zeros) and decimal point: value = 0.DIGITS x 10^dp. */
interface Digits {
  d: string;
  dp: number;
}

/** The IEEE 754 bit pattern of a double. */
function float64Bits(x: number): bigint {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  return view.getBigUint64(0);
}

function exactDigits(x: number): Digits {
  const bits = float64Bits(x);
  const biased = Number((bits >> 52n) & 0x7ffn);
  let mant = bits & ((1n << 52n) - 1n);
  let e2 = -1074;
  if (biased !== 0) {
    mant |= 1n << 52n;
    e2 = biased - 1075;
  }
  let d: string;
  let dp: number;
  if (e2 >= 0) {
    d = (mant << BigInt(e2)).toString();
    dp = d.length;
  } else {
    // mant / 2^k = mant * 5^k / 10^k
    d = (mant * 5n ** BigInt(-e2)).toString();
    dp = d.length + e2;
  }
  return { d: d.replace(/0+$/, ""), dp };
}

function shortestDigits(x: number): Digits {
  const [mantissa, exp] = x.toExponential().split("e");
  return { d: mantissa!.replace(".", "").replace(/0+$/, ""), dp: Number(exp) + 1 };
}

/** strconv's decimal.Round(nd): keep nd digits, rounding half to even on the exact value. */
function round(a: Digits, nd: number): Digits {
  if (nd < 0 || nd >= a.d.length) return a;
  const next = a.d.charCodeAt(nd) - 48;
  let up = next > 5;
  if (next === 5) up = nd + 1 < a.d.length || (nd > 0 && (a.d.charCodeAt(nd - 1) - 48) % 2 === 1);
  if (!up) return { d: a.d.slice(0, nd).replace(/0+$/, ""), dp: a.dp };
  for (let i = nd - 1; i >= 0; i--) {
    if (a.d[i] !== "9") return { d: a.d.slice(0, i) + String.fromCharCode(a.d.charCodeAt(i) + 1), dp: a.dp };
  }
  return { d: "1", dp: a.dp + 1 }; // all nines
}

function fmtE(neg: boolean, a: Digits, prec: number, e: string): string {
  let s = neg ? "-" : "";
  s += a.d.length ? a.d[0] : "0";
  if (prec > 0) s += "." + a.d.slice(1, prec + 1).padEnd(prec, "0");
  let exp = a.d.length === 0 ? 0 : a.dp - 1;
  const sign = exp < 0 ? "-" : "+";
  exp = Math.abs(exp);
  return `${s}${e}${sign}${exp < 10 ? "0" : ""}${exp}`;
}

function fmtF(neg: boolean, a: Digits, prec: number): string {
  let s = neg ? "-" : "";
  s += a.dp > 0 ? a.d.slice(0, a.dp).padEnd(a.dp, "0") : "0";
  if (prec > 0) {
    s += ".";
    for (let i = 1; i <= prec; i++) {
      const j = a.dp + i - 1;
      s += j >= 0 && j < a.d.length ? a.d[j] : "0";
    }
  }
  return s;
}

/** strconv.FormatFloat(v, fmt, prec, 64) for fmt in "eEfgG"; prec < 0 means shortest. */
export function formatFloat(v: number, fmt: "e" | "E" | "f" | "g" | "G", prec: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (!Number.isFinite(v)) return v > 0 ? "+Inf" : "-Inf";
  const neg = v < 0 || Object.is(v, -0);
  const x = Math.abs(v);
  const shortest = prec < 0;
  let digs: Digits;
  if (x === 0) digs = { d: "", dp: 0 };
  else if (shortest) digs = shortestDigits(x);
  else if (fmt === "f") digs = round(exactDigits(x), exactDigits(x).dp + prec);
  else if (fmt === "e" || fmt === "E") digs = round(exactDigits(x), prec + 1);
  else {
    if (prec === 0) prec = 1;
    digs = round(exactDigits(x), prec);
  }
  if (shortest) {
    if (fmt === "e" || fmt === "E") prec = Math.max(digs.d.length - 1, 0);
    else if (fmt === "f") prec = Math.max(digs.d.length - digs.dp, 0);
    else prec = digs.d.length;
  }
  switch (fmt) {
    case "e":
    case "E":
      return fmtE(neg, digs, prec, fmt);
    case "f":
      return fmtF(neg, digs, prec);
  }
  let eprec = prec;
  if (eprec > digs.d.length && digs.d.length >= digs.dp) eprec = digs.d.length;
  // Shortest %g switches to an exponent from 1e+06 on, whatever the digit count.
  if (shortest) eprec = 6;
  const exp = digs.dp - 1;
  if (exp < -4 || exp >= eprec) {
    if (prec > digs.d.length) prec = digs.d.length;
    return fmtE(neg, digs, prec - 1, fmt === "g" ? "e" : "E");
  }
  if (prec > digs.dp) prec = digs.d.length;
  return fmtF(neg, digs, Math.max(prec - digs.dp, 0));
}

function mantissaAndExponent(v: number): { neg: boolean; mant: bigint; exp: number } {
  const bits = float64Bits(v);
  let exp = Number((bits >> 52n) & 0x7ffn);
  let mant = bits & ((1n << 52n) - 1n);
  if (exp === 0) exp++;
  else mant |= 1n << 52n;
  return { neg: bits >> 63n === 1n, mant, exp: exp - 1023 };
}

const U64 = (1n << 64n) - 1n;

/** strconv.FormatFloat(v, 'b' | 'x' | 'X', prec, 64): binary exponent and hexadecimal forms. */
export function formatFloatBinary(v: number, fmt: "b" | "x" | "X", prec: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (!Number.isFinite(v)) return v > 0 ? "+Inf" : "-Inf";
  let { neg, mant, exp } = mantissaAndExponent(v);
  const sign = neg ? "-" : "";
  if (fmt === "b") {
    const e = exp - 52;
    return `${sign}${mant}p${e >= 0 ? "+" : ""}${e}`;
  }
  if (mant === 0n) exp = 0;
  mant = (mant << 8n) & U64; // leading 1 (if any) at bit 60
  while (mant !== 0n && (mant & (1n << 60n)) === 0n) {
    mant = (mant << 1n) & U64;
    exp--;
  }
  if (prec >= 0 && prec < 15) {
    const shift = BigInt(prec * 4);
    const extra = (mant << shift) & ((1n << 60n) - 1n);
    mant >>= 60n - shift;
    if ((extra | (mant & 1n)) > 1n << 59n) mant++;
    mant = (mant << (60n - shift)) & U64;
    if ((mant & (1n << 61n)) !== 0n) {
      mant >>= 1n;
      exp++;
    }
  }
  const digit = (m: bigint) => {
    const d = Number((m >> 60n) & 15n).toString(16);
    return fmt === "X" ? d.toUpperCase() : d;
  };
  let s = `${sign}0${fmt}${Number((mant >> 60n) & 1n)}`;
  mant = (mant << 4n) & U64;
  if (prec < 0 && mant !== 0n) {
    s += ".";
    while (mant !== 0n) {
      s += digit(mant);
      mant = (mant << 4n) & U64;
    }
  } else if (prec > 0) {
    s += ".";
    for (let i = 0; i < prec; i++) {
      s += digit(mant);
      mant = (mant << 4n) & U64;
    }
  }
  const e = Math.abs(exp);
  return `${s}${fmt === "X" ? "P" : "p"}${exp < 0 ? "-" : "+"}${e < 10 ? "0" : ""}${e}`;
}
