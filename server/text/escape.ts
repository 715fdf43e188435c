/**
 * THE escaping for user-supplied text that maand prints for people: `cat` tables, workspace
 * problems, build and CLI errors. A KV value, a key, a file name or a hostname may hold
 * anything; printed raw, an ESC sequence recolours or clears the terminal, a carriage return
 * or newline fakes a line, a C1 CSI (U+009B) does what ESC [ does on 8-bit terminals, and a
 * bidi override makes `abc` read as `cba`. Those become visible escapes; everything printable
 * (backslashes included) stays as it is, because this is for reading: `--json` is the exact
 * form.
 */

// C0 controls, DEL, C1 controls; bidi marks, embeddings, overrides and isolates; line and
// paragraph separators; BOM / zero-width no-break space; lone surrogates (no character at all).
const UNSAFE =
  /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const ANY_UNSAFE = new RegExp(UNSAFE.source);

const NAMED: Readonly<Record<string, string>> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

const hex = (n: number, width: number): string => n.toString(16).padStart(width, "0");

function escapeOne(c: string): string {
  const named = NAMED[c];
  if (named) return named;
  const code = c.charCodeAt(0);
  return code < 0x100 ? `\\x${hex(code, 2)}` : `\\u${hex(code, 4)}`;
}

/** `text` with every unsafe character as `\n`, `\r`, `\t`, `\xHH` or `\uHHHH`. */
export function escapeText(text: string): string {
  return ANY_UNSAFE.test(text) ? text.replace(UNSAFE, escapeOne) : text;
}

/**
 * A message that is several lines by construction (a list of problems): each line escaped, the
 * newlines between them kept. Used at the CLI boundary, where every error message is printed.
 */
export function escapeLines(text: string): string {
  return text.split("\n").map(escapeText).join("\n");
}

/**
 * Raw bytes that are not valid UTF-8 (a file name from a Latin-1 tarball): ASCII as text
 * (escaped like any text), every other byte as `\xHH`, so the name can be found with `ls -b`.
 */
export function escapeBytes(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) out += b < 0x80 ? escapeText(String.fromCharCode(b)) : `\\x${hex(b, 2)}`;
  return out;
}
