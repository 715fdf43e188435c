import { closeSync, constants, fstatSync, openSync, readSync } from "node:fs";
import { inodeId } from "./bucket-guard.js";

/**
 * The largest job file build stores. Each file is one catalog row, and better-sqlite3 caps a
 * bound value at V8's longest string (2^29 - 24 bytes, just under 512 MiB; SQLite's own 1e9
 * never comes into play): a bigger file made the build's transaction throw. 500 MiB leaves room
 * for the row's other columns; anything that big is an artifact for a package repository.
 */
export const MAX_JOB_FILE_BYTES = 500 * 1024 * 1024;

const MiB = 1024 * 1024;
const size = (n: number): string => `${(n / MiB).toFixed(1)} MiB (${n.toLocaleString("en-US")} bytes)`;

export type FileRead = { content: Buffer; mode: number } | { problem: string };

/**
 * One job file, its size checked from fstat before a byte is read (a 1 GB file must not be
 * loaded just to be refused). O_NOFOLLOW: the walk decided what this path is; a file swapped
 * for a symlink since then is refused instead of followed.
 */
export function readBoundedFile(abs: string, options: { maxBytes?: number; forbidden?: ReadonlySet<string> } = {}): FileRead {
  const maxBytes = options.maxBytes ?? MAX_JOB_FILE_BYTES;
  let fd: number;
  try {
    fd = openSync(abs, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (err) {
    return { problem: `cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)}); expected a readable file` };
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return { problem: "is no longer a regular file; expected only files" };
    if (options.forbidden?.has(inodeId(st))) {
      return { problem: "is a hard link to a file of the bucket's secrets/ or data/; expected job files of their own (job files are copied into maand.db)" };
    }
    if (st.size > maxBytes) {
      return { problem: `is ${size(st.size)}, over the ${size(maxBytes)} build stores per job file; expected smaller files (ship big artifacts another way)` };
    }
    const content = Buffer.allocUnsafe(st.size);
    let at = 0;
    while (at < st.size) {
      const n = readSync(fd, content, at, st.size - at, at);
      if (n === 0) break; // shrank while we read
      at += n;
    }
    return { content: at === st.size ? content : content.subarray(0, at), mode: st.mode & 0o777 };
  } catch (err) {
    return { problem: `cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)}); expected a readable file` };
  } finally {
    closeSync(fd);
  }
}
