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
export class TailBuffer {
  private readonly lines: string[] = [];
  constructor(private readonly capacity = TAIL_LINES) {}

  push(line: string): void {
    this.lines.push(line);
    if (this.lines.length > this.capacity) this.lines.shift();
  }

  get(): string[] {
    return [...this.lines];
  }
}
