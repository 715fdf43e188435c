/**
 * Hook output handling that survives hostile output: megabytes without newlines, binary bytes,
 * terminal escapes. Lines are capped, decoded leniently and stripped of control characters;
 * only a small tail is kept in memory for the failure report.
 */

export const MAX_LINE_BYTES = 8 * 1024;
export const TAIL_LINES = 20;
const TRUNCATED = " …[line truncated]";

/** Splits a byte stream into sanitised lines of at most MAX_LINE_BYTES. */
export class LineSplitter {
  private parts: Buffer[] = [];
  private size = 0;
  /** Inside an over-long line: drop bytes until its newline. */
  private skipping = false;

  push(chunk: Buffer): string[] {
    const lines: string[] = [];
    let start = 0;
    while (start < chunk.length) {
      const nl = chunk.indexOf(10, start);
      const end = nl === -1 ? chunk.length : nl;
      this.append(chunk.subarray(start, end), lines);
      if (nl === -1) break;
      if (this.skipping) this.skipping = false;
      else lines.push(this.take());
      start = nl + 1;
    }
    return lines;
  }

  /** The unterminated last line, if any. */
  end(): string[] {
    if (this.skipping) {
      this.skipping = false;
      return [];
    }
    return this.size > 0 ? [this.take()] : [];
  }

  private append(bytes: Buffer, lines: string[]): void {
    if (this.skipping || bytes.length === 0) return;
    const room = MAX_LINE_BYTES - this.size;
    if (bytes.length <= room) {
      this.parts.push(bytes);
      this.size += bytes.length;
      return;
    }
    this.parts.push(bytes.subarray(0, room));
    this.size += room;
    lines.push(this.take() + TRUNCATED);
    this.skipping = true;
  }

  private take(): string {
    let text = Buffer.concat(this.parts, this.size).toString("utf8");
    if (text.endsWith("\r")) text = text.slice(0, -1); // CRLF output
    const line = sanitize(text);
    this.parts = [];
    this.size = 0;
    return line;
  }
}

// C0 controls except tab, DEL and C1 controls: terminal escapes and binary noise.
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/g;

export function sanitize(text: string): string {
  return text.replace(CONTROL, "\uFFFD");
}

/** The last `capacity` lines. */
/**
 * An exception's message line as Python ("ValueError: ...", "SystemExit: 3"), Bun ("error: ...")
 * and Node ("Error: ...", "TypeError: ...") print it: a failure report must show it even when a
 * long stack trace or the runtime's own footer follows it.
 */
const EXCEPTION_LINE = /^(?:error: |(?:[A-Z]\w*\.)*[A-Z]\w*(?:Error|Exception|Exit|Interrupt)(?::|$))/;
/** Bun's last line after an uncaught error: no news for the report. */
const RUNTIME_FOOTER = /^Bun v\d+\.\d+\.\d+ \(/;

/**
 * The last lines of a hook's output for its failure report. Paths of the staged copy
 * (tmp/workers/<ip>/jobs/<job>/...) are shown as the workspace file the operator edits, and the
 * exception's message line is kept even when more lines came after it.
 */
export class TailBuffer {
  private readonly lines: string[] = [];
  private exception: string | undefined;
  constructor(
    private readonly capacity = TAIL_LINES,
    private readonly mapPaths: (line: string) => string = (l) => l,
  ) {}

  push(raw: string): void {
    // Blank lines and Bun's footer would only push what matters out of a 20-line report.
    if (raw.trim() === "" || RUNTIME_FOOTER.test(raw)) return;
    const line = this.mapPaths(raw);
    if (EXCEPTION_LINE.test(line.trimStart())) this.exception = line;
    this.lines.push(line);
    if (this.lines.length > this.capacity) this.lines.shift();
  }

  get(): string[] {
    const out = [...this.lines];
    if (this.exception !== undefined && !out.includes(this.exception) && out.length) out.splice(0, Math.min(2, out.length), this.exception, "…");
    return out;
  }
}

/** Rewrites a staged job directory's paths to the workspace job directory (both absolute or bucket-relative). */
export function stagedPathMapper(stagedDir: string, workspaceDir: string): (line: string) => string {
  return (line) => (line.includes(stagedDir) ? line.split(stagedDir).join(workspaceDir) : line);
}
