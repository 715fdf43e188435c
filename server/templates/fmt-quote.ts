/**
 * strconv's quoting (Quote, QuoteToASCII, QuoteRune, CanBackquote) and IsPrint, for %q, %#v and
 * %#U. Printability follows Unicode categories L, M, N, P, S plus U+0020, as Go's tables do; the
 * Unicode version is Node's, so runes assigned after Unicode 13 may print where Go 1.19 escapes.
 */
const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;

export function isPrint(r: number): boolean {
  if (r < 0x80) return r >= 0x20 && r < 0x7f;
  if (r <= 0xff) return r >= 0xa1 && r !== 0xad;
  if (r > 0x10ffff || (r >= 0xd800 && r < 0xe000)) return false;
  return PRINTABLE.test(String.fromCodePoint(r));
}

const hex = (n: number, width: number) => n.toString(16).padStart(width, "0");

function escapedRune(r: number, quote: string, asciiOnly: boolean): string {
  const ch = String.fromCodePoint(r);
  if (ch === quote || ch === "\\") return "\\" + ch;
  if (asciiOnly ? r < 0x80 && isPrint(r) : isPrint(r)) return ch;
  switch (r) {
    case 7:
      return "\\a";
    case 8:
      return "\\b";
    case 12:
      return "\\f";
    case 10:
      return "\\n";
    case 13:
      return "\\r";
    case 9:
      return "\\t";
    case 11:
      return "\\v";
  }
  if (r < 0x20 || r === 0x7f) return "\\x" + hex(r, 2);
  if (r > 0x10ffff || (r >= 0xd800 && r < 0xe000)) r = 0xfffd;
  return r < 0x10000 ? "\\u" + hex(r, 4) : "\\U" + hex(r, 8);
}

/** strconv.Quote, or QuoteToASCII when asciiOnly. */
export function quote(s: string, asciiOnly = false): string {
  let out = '"';
  for (const ch of s) out += escapedRune(ch.codePointAt(0)!, '"', asciiOnly);
  return out + '"';
}

/** strconv.QuoteRune, or QuoteRuneToASCII when asciiOnly. Invalid runes become U+FFFD. */
export function quoteRune(r: number, asciiOnly = false): string {
  if (r < 0 || r > 0x10ffff || (r >= 0xd800 && r < 0xe000)) r = 0xfffd;
  return "'" + escapedRune(r, "'", asciiOnly) + "'";
}

/** strconv.CanBackquote: printable as a raw string without change. */
export function canBackquote(s: string): boolean {
  for (const ch of s) {
    const r = ch.codePointAt(0)!;
    if (r >= 0x80) {
      if (r === 0xfeff) return false;
      continue;
    }
    if ((r < 0x20 && r !== 0x09) || r === 0x60 || r === 0x7f) return false;
  }
  return true;
}
