import type { SecretPatterns } from "./secret-patterns.js";

export const MASK = "***";
const MASK_BYTES = Buffer.from(MASK);
const EMPTY = Buffer.alloc(0);

/**
 * Masks secrets in one output stream of one hook, on the raw bytes, before they are split into
 * lines and stripped of control characters: a secret spanning lines, holding ESC or ending in
 * \r is still found, and so is one split across two reads of the pipe, because the bytes that
 * could be the start of a secret are held back until the next chunk (or the end) decides.
 */
export class StreamMasker {
  private pending: Buffer = EMPTY;

  constructor(private readonly patterns: SecretPatterns) {}

  /** The bytes of `chunk` (and of earlier held-back bytes) that are safe to pass on, masked. */
  push(chunk: Buffer): Buffer {
    const buf = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    const { out, rest } = mask(this.patterns, buf, false);
    // A copy: a held-back tail must not keep a 64 KiB chunk alive.
    this.pending = rest.length ? Buffer.from(rest) : EMPTY;
    return out;
  }

  /** The stream ended: whatever was held back, masked. */
  end(): Buffer {
    const { out } = mask(this.patterns, this.pending, true);
    this.pending = EMPTY;
    return out;
  }
}

/** `buf` with every match replaced by MASK (overlapping matches merged), up to what must wait. */
export function mask(patterns: SecretPatterns, buf: Buffer, final: boolean): { out: Buffer; rest: Buffer } {
  if (buf.length === 0) return { out: buf, rest: EMPTY };
  const { matches, partialFrom } = patterns.scan(buf);
  let hold = final ? buf.length : partialFrom;
  const merged = mergeRanges(matches);
  // A match running past the held-back point is masked whole next time, not half now.
  for (const [start, end] of merged) if (start < hold && end > hold) hold = start;
  if (merged.length === 0) return { out: buf.subarray(0, hold), rest: buf.subarray(hold) };
  const parts: Buffer[] = [];
  let at = 0;
  for (const [start, end] of merged) {
    if (end > hold) break;
    parts.push(buf.subarray(at, start), MASK_BYTES);
    at = end;
  }
  parts.push(buf.subarray(at, hold));
  return { out: Buffer.concat(parts), rest: buf.subarray(hold) };
}

function mergeRanges(ranges: Array<[number, number]>): Array<[number, number]> {
  if (ranges.length < 2) return ranges;
  const sorted = [...ranges].sort((a, b) => a[0] - b[0] || b[1] - a[1]);
  const out: Array<[number, number]> = [[...sorted[0]!]];
  for (let i = 1; i < sorted.length; i++) {
    const [start, end] = sorted[i]!;
    const last = out[out.length - 1]!;
    if (start <= last[1]) last[1] = Math.max(last[1], end);
    else out.push([start, end]);
  }
  return out;
}
