/**
 * A streaming POSIX ustar writer (just what sync needs: regular files with a mode). Names
 * longer than ustar's fields, or not plain ASCII, get a pax `path` record, which Python's
 * tarfile and GNU tar read.
 */
export interface TarEntry {
  /** POSIX path inside the archive. */
  name: string;
  mode: number;
  content: Buffer;
  /** Seconds since the epoch; 0 by default (the worker does not use it). */
  mtime?: number;
}

const BLOCK = 512;
/** Small entries are gathered into chunks about this big, so a channel sees few large writes. */
const CHUNK = 256 * 1024;
const MAX_USTAR_SIZE = 0o77777777777;

/** The archive as a sequence of buffers: headers, contents, padding, then the two zero blocks. */
export function* tarChunks(entries: Iterable<TarEntry>): Generator<Buffer> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const flush = function* () {
    if (pendingBytes) yield pending.length === 1 ? pending[0] : Buffer.concat(pending, pendingBytes);
    pending = [];
    pendingBytes = 0;
  };
  for (const e of entries) {
    for (const part of entryParts(e)) {
      if (part.length >= CHUNK) {
        yield* flush();
        yield part;
        continue;
      }
      pending.push(part);
      pendingBytes += part.length;
      if (pendingBytes >= CHUNK) yield* flush();
    }
  }
  pending.push(Buffer.alloc(2 * BLOCK));
  pendingBytes += 2 * BLOCK;
  yield* flush();
}

/** Total archive size for `entries`, without building it. */
export function tarSize(entries: Iterable<Pick<TarEntry, "name" | "content">>): number {
  let n = 2 * BLOCK;
  for (const e of entries) {
    const pax = paxRecords(e.name, e.content.length);
    if (pax) n += BLOCK + padded(pax.length);
    n += BLOCK + padded(e.content.length);
  }
  return n;
}

function* entryParts(e: TarEntry): Generator<Buffer> {
  const pax = paxRecords(e.name, e.content.length);
  if (pax) {
    yield header({ name: "PaxHeader", mode: 0o644, size: pax.length, type: "x", mtime: 0 });
    yield pax;
    const pad = padded(pax.length) - pax.length;
    if (pad) yield Buffer.alloc(pad);
  }
  yield header({ name: e.name, mode: e.mode, size: e.content.length, type: "0", mtime: e.mtime ?? 0 });
  if (e.content.length) yield e.content;
  const pad = padded(e.content.length) - e.content.length;
  if (pad) yield Buffer.alloc(pad);
}

const padded = (n: number) => Math.ceil(n / BLOCK) * BLOCK;

/** A pax extended header's body when the ustar header cannot hold the name or size. */
function paxRecords(name: string, size: number): Buffer | undefined {
  const records: string[] = [];
  if (!ustarName(name)) records.push(record("path", name));
  if (size > MAX_USTAR_SIZE) records.push(record("size", String(size)));
  return records.length ? Buffer.from(records.join(""), "utf8") : undefined;
}

/** "<len> key=value\n" where len counts the whole record, its own digits included. */
function record(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  const bodyLen = Buffer.byteLength(body);
  let digits = String(bodyLen).length;
  while (String(bodyLen + digits).length > digits) digits++;
  return `${bodyLen + digits}${body}`;
}

/** [prefix, name] fitting ustar's 155 + 100 byte fields, ASCII only; undefined when it does not fit. */
function ustarName(name: string): [string, string] | undefined {
  if (!/^[\x20-\x7e]*$/.test(name)) return undefined;
  if (name.length <= 100) return ["", name];
  for (let i = name.indexOf("/"); i >= 0; i = name.indexOf("/", i + 1)) {
    if (i <= 155 && name.length - i - 1 <= 100 && name.length - i - 1 > 0) return [name.slice(0, i), name.slice(i + 1)];
  }
  return undefined;
}

interface Header {
  name: string;
  mode: number;
  size: number;
  type: "0" | "x";
  mtime: number;
}

function header(h: Header): Buffer {
  const b = Buffer.alloc(BLOCK);
  const [prefix, name] = ustarName(h.name) ?? ["", "pax-named-entry"];
  b.write(name, 0, 100, "latin1");
  octal(b, 100, 8, h.mode & 0o7777);
  octal(b, 108, 8, 0);
  octal(b, 116, 8, 0);
  octal(b, 124, 12, h.size > MAX_USTAR_SIZE ? 0 : h.size);
  octal(b, 136, 12, h.mtime);
  b.write("        ", 148, 8, "latin1");
  b.write(h.type, 156, 1, "latin1");
  b.write("ustar\0", 257, 6, "latin1");
  b.write("00", 263, 2, "latin1");
  b.write(prefix, 345, 155, "latin1");
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += b[i];
  b.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, 8, "latin1");
  return b;
}

function octal(b: Buffer, offset: number, width: number, value: number): void {
  b.write(`${value.toString(8).padStart(width - 1, "0")}\0`, offset, width, "latin1");
}
