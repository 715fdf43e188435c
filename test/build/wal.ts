import { readFileSync } from "node:fs";

/**
 * What SQLite's recovery will make of a WAL file (https://www.sqlite.org/fileformat.html#the_write_ahead_log):
 * the frames it accepts (salts match the header, cumulative checksum holds) and whether any of
 * them is a commit frame. Read while the writer is frozen (SIGSTOP), this says whether a kill
 * now lands inside an open write transaction (frames, no commit) or after its commit.
 */
export interface WalState {
  validFrames: number;
  /** Valid frames up to and including the last valid commit frame. */
  committedFrames: number;
}

const HEADER = 32;
const FRAME_HEADER = 24;

export function readWal(file: string): WalState {
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch {
    return { validFrames: 0, committedFrames: 0 };
  }
  if (buf.length < HEADER) return { validFrames: 0, committedFrames: 0 };
  const magic = buf.readUInt32BE(0);
  if (magic !== 0x377f0682 && magic !== 0x377f0683) throw new Error(`${file}: not a WAL file (magic ${magic.toString(16)})`);
  const word = magic === 0x377f0683 ? (o: number) => buf.readUInt32BE(o) : (o: number) => buf.readUInt32LE(o);
  const pageSize = buf.readUInt32BE(8);
  const salt = [buf.readUInt32BE(16), buf.readUInt32BE(20)];
  let sum = checksum(word, 0, 24, [0, 0]);
  if (sum[0] !== buf.readUInt32BE(24) || sum[1] !== buf.readUInt32BE(28)) return { validFrames: 0, committedFrames: 0 };
  let validFrames = 0;
  let committedFrames = 0;
  for (let at = HEADER; at + FRAME_HEADER + pageSize <= buf.length; at += FRAME_HEADER + pageSize) {
    if (buf.readUInt32BE(at + 8) !== salt[0] || buf.readUInt32BE(at + 12) !== salt[1]) break;
    sum = checksum(word, at, 8, sum);
    sum = checksum(word, at + FRAME_HEADER, pageSize, sum);
    if (sum[0] !== buf.readUInt32BE(at + 16) || sum[1] !== buf.readUInt32BE(at + 20)) break;
    validFrames++;
    if (buf.readUInt32BE(at + 4) !== 0) committedFrames = validFrames;
  }
  return { validFrames, committedFrames };
}

/** SQLite's WAL checksum: Fibonacci-weighted sums of 32-bit words, in the file's byte order. */
function checksum(word: (offset: number) => number, start: number, length: number, [s0, s1]: number[]): number[] {
  let a = s0!;
  let b = s1!;
  for (let o = start; o < start + length; o += 8) {
    a = (a + word(o) + b) >>> 0;
    b = (b + word(o + 4) + a) >>> 0;
  }
  return [a, b];
}
