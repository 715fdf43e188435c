import { escapeText } from "../../server/text/escape.js";

/** A column of a human-readable table: the row field and how to print it. */
export interface Column<R> {
  field: keyof R & string;
  /** Header; the field name when omitted. */
  title?: string;
  format?: (value: R[keyof R & string], row: R) => string;
  /** Cap for this column's cells; MAX_CELL_WIDTH when omitted. */
  maxWidth?: number;
}

/**
 * Widest a cell is printed. UUIDs (36), IPv6 hosts (39) and namespaces such as
 * `maand/job/<job>/worker/<ip>` fit; a 20,000-character KV key or a long tags object is cut
 * with an ellipsis instead of widening every row of the table to its length (`--json` has the
 * full value).
 */
export const MAX_CELL_WIDTH = 64;

/**
 * Rows as an aligned, space-separated table with a header line, one line per row: cells are
 * escaped (a newline shows as \n, ESC as \x1b: a PEM, JSON or a hostile value cannot break the
 * layout or drive the terminal) and cut to their column's width.
 */
export function renderTable<R>(rows: readonly R[], columns: readonly Column<R>[]): string {
  return [...tableLines(rows, columns)].join("\n");
}

/** The same table line by line, for outputs too big to hold as one string. */
export function* tableLines<R>(rows: readonly R[], columns: readonly Column<R>[]): Generator<string> {
  const header = columns.map((c) => c.title ?? c.field);
  const cells = rows.map((r) => columns.map((c) => cell(c.format ? c.format(r[c.field], r) : cellText(r[c.field]), c.maxWidth ?? MAX_CELL_WIDTH)));
  // A loop, not Math.max(...column): spreading 200,000 rows overflows the call stack.
  const widths = header.map((h) => displayWidth(h));
  for (const row of cells) row.forEach((c, i) => (widths[i] = Math.max(widths[i]!, c.width)));
  const line = (row: Array<{ text: string; width: number }>) =>
    row
      .map((c, i) => (i === row.length - 1 ? c.text : c.text + " ".repeat(widths[i]! - c.width)))
      .join("  ")
      .trimEnd();
  yield line(header.map((h) => ({ text: h, width: displayWidth(h) })));
  for (const row of cells) yield line(row);
}

export function cellText(v: unknown): string {
  if (v === null || v === undefined) return "";
  if (Buffer.isBuffer(v)) return `<${v.length} bytes>`;
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

/** At most `max` characters (code points: an emoji is never cut in half), the last one "…". */
export function truncate(s: string, max: number): string {
  if (s.length <= max) return s;
  const chars = Array.from(s.slice(0, max * 2));
  return chars.length <= max ? s : `${chars.slice(0, max - 1).join("")}…`;
}

function cell(raw: string, max: number): { text: string; width: number } {
  const text = truncate(escapeText(raw), max);
  return { text, width: displayWidth(text) };
}

/** Padding counts code points, so a cell of emoji or accented text lines up like ASCII. */
function displayWidth(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** `--json` output: the rows as they are, one JSON array. */
export function renderJson(rows: unknown): string {
  return JSON.stringify(rows, null, 2);
}
