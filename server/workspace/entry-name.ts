import { escapeBytes } from "../text/escape.js";

/**
 * A directory entry's raw name as text, or its bytes escaped when they are not UTF-8. Node
 * decodes such a name to U+FFFD, a name that then does not exist (ENOENT), and the catalog,
 * KV and staged paths are all UTF-8 text.
 */
export function entryName(raw: Buffer): { text: string } | { notUtf8: string } {
  const text = raw.toString("utf8");
  // Node decodes every invalid sequence to U+FFFD: without one, the bytes were UTF-8 (the common case, per entry of every walk).
  if (!text.includes("\uFFFD")) return { text };
  return Buffer.byteLength(text) === raw.length && Buffer.from(text, "utf8").equals(raw) ? { text } : { notUtf8: escapeBytes(raw) };
}
