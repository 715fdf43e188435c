/** A column of a human-readable table: the row field and how to print it. */
export interface Column<R> {
  field: keyof R & string;
  /** Header; the field name when omitted. */
  title?: string;
  format?: (value: R[keyof R & string], row: R) => string;
}

/**
 * Rows as an aligned, space-separated table with a header line; every cell on one line (newlines
 * shown as \n) so a PEM or a JSON value cannot break the layout.
 */
export function renderTable<R>(rows: readonly R[], columns: readonly Column<R>[]): string {
  const header = columns.map((c) => c.title ?? c.field);
  const cells = rows.map((r) => columns.map((c) => oneLine(c.format ? c.format(r[c.field], r) : cellText(r[c.field]))));
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((row) => row[i]!.length)));
  const line = (row: string[]) =>
    row
      .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  return [line(header), ...cells.map(line)].join("\n");
}

export function cellText(v: unknown): string {
  if (v === null || v === undefined) return "";
  if (Buffer.isBuffer(v)) return `<${v.length} bytes>`;
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

export function truncate(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

function oneLine(s: string): string {
  return s.replace(/\r?\n/g, "\\n");
}

/** `--json` output: the rows as they are, one JSON array. */
export function renderJson(rows: unknown): string {
  return JSON.stringify(rows, null, 2);
}
