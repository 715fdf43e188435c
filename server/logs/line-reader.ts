import { closeSync, openSync, readSync } from "node:fs";

const CHUNK_BYTES = 64 * 1024;

/**
 * The lines of a file, read forward in chunks. The file is opened for each chunk and closed
 * again, so a merge over the thousands of files of a wide run holds no descriptors and only one
 * chunk per file in memory. Log files are append-only, so reopening reads the same bytes.
 */
export class LineReader {
  private position = 0;
  private pending: string[] = [];
  private rest = Buffer.alloc(0);
  private eof = false;

  constructor(readonly file: string) {}

  next(): string | undefined {
    while (this.pending.length === 0 && !this.eof) this.fill();
    return this.pending.shift();
  }

  private fill(): void {
    const buf = Buffer.alloc(CHUNK_BYTES);
    const fd = openSync(this.file, "r");
    let n: number;
    try {
      n = readSync(fd, buf, 0, CHUNK_BYTES, this.position);
    } finally {
      closeSync(fd);
    }
    this.position += n;
    let data = Buffer.concat([this.rest, buf.subarray(0, n)]);
    if (n === 0) {
      this.eof = true;
      if (data.length) this.pending.push(data.toString("utf8"));
      this.rest = Buffer.alloc(0);
      return;
    }
    const last = data.lastIndexOf(10);
    if (last < 0) {
      this.rest = data;
      return;
    }
    this.rest = Buffer.from(data.subarray(last + 1));
    data = data.subarray(0, last);
    this.pending = data.toString("utf8").split("\n");
  }
}
