/**
 * Go's string semantics on JS strings. Go strings are UTF-8 bytes: `len`, `index`, `slice` and
 * %x count bytes, comparison and sorting are bytewise, and the strings package uses its own
 * whitespace and simple per-rune case mapping. JS strings are UTF-16, so each of these needs care.
 */

/** Bytewise (UTF-8) order, which is code point order; JS `<` compares UTF-16 units instead. */
export function compareGo(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return utf16Rank(x) - utf16Rank(y);
  }
  return a.length - b.length;
}

// Surrogates (astral code points) sort after U+E000..U+FFFF in code point order but before them
// in UTF-16 unit order; shifting the two ranges past each other fixes that.
function utf16Rank(u: number): number {
  if (u >= 0xe000) return u - 0x800;
  if (u >= 0xd800) return u + 0x2000;
  return u;
}

const ASCII = /^[\x00-\x7f]*$/;

/** len(s) in Go: the UTF-8 byte length. */
export function byteLength(s: string): number {
  return ASCII.test(s) ? s.length : Buffer.byteLength(s, "utf8");
}

export function utf8Bytes(s: string): Uint8Array {
  return Buffer.from(s, "utf8");
}

/** s[i:j] in Go. A cut inside a multi-byte character becomes U+FFFD (Go keeps the raw bytes). */
export function byteSlice(s: string, i: number, j: number): string {
  if (ASCII.test(s)) return s.slice(i, j);
  return Buffer.from(s, "utf8").subarray(i, j).toString("utf8");
}

/** Number of code points: Go's utf8.RuneCountInString, used for fmt widths. */
export function runeCount(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c < 0xdc00 && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d < 0xe000) i++;
    }
    n++;
  }
  return n;
}

/** strings.Split: an empty separator splits after each character (code point, not UTF-16 unit). */
export function split(s: string, sep: string): string[] {
  return sep === "" ? Array.from(s) : s.split(sep);
}

/** unicode.IsSpace: differs from JS whitespace (Go has U+0085, lacks U+FEFF). */
export function isGoSpace(c: number): boolean {
  if (c <= 0xff) return c === 0x20 || (c >= 0x09 && c <= 0x0d) || c === 0x85 || c === 0xa0;
  return c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000;
}

/** strings.TrimSpace. */
export function trimSpace(s: string): string {
  let i = 0;
  let j = s.length;
  while (i < j && isGoSpace(s.charCodeAt(i))) i++;
  while (j > i && isGoSpace(s.charCodeAt(j - 1))) j--;
  return s.slice(i, j);
}

// Runes whose simple case mapping (what Go uses) is a single rune while JS's full mapping expands
// to several: Greek letters with ypogegrammeni map to their titlecase form, U+0130 lowercases to
// "i". Elsewhere a multi-rune JS mapping means Go leaves the rune alone (e.g. "ß").
const UPPER_SPECIAL: ReadonlyMap<number, number> = new Map([
  [0x1fb3, 0x1fbc],
  [0x1fc3, 0x1fcc],
  [0x1ff3, 0x1ffc],
  // U+1F80..87, U+1F90..97, U+1FA0..A7 map 8 places up.
  ...[0x1f80, 0x1f90, 0x1fa0].flatMap((base) => Array.from({ length: 8 }, (_, k): [number, number] => [base + k, base + k + 8])),
]);
const LOWER_SPECIAL: ReadonlyMap<number, number> = new Map([[0x130, 0x69]]);

function mapRunes(s: string, mapOne: (r: string) => string, special: ReadonlyMap<number, number>): string {
  let out = "";
  for (const r of s) {
    const cp = r.codePointAt(0)!;
    const forced = special.get(cp);
    if (forced !== undefined) {
      out += String.fromCodePoint(forced);
      continue;
    }
    const m = mapOne(r);
    out += m.length === 1 || (m.length === 2 && m.codePointAt(0)! > 0xffff) ? m : r;
  }
  return out;
}

/** strings.ToUpper (per-rune simple mapping, so no "ß" -> "SS"). */
export function toUpper(s: string): string {
  return ASCII.test(s) ? s.toUpperCase() : mapRunes(s, (r) => r.toUpperCase(), UPPER_SPECIAL);
}

/** strings.ToLower (per-rune, so no context-dependent final sigma). */
export function toLower(s: string): string {
  return ASCII.test(s) ? s.toLowerCase() : mapRunes(s, (r) => r.toLowerCase(), LOWER_SPECIAL);
}
