import { chmodSync, fchmodSync, fstatSync, lstatSync, mkdirSync, openSync, readdirSync } from "node:fs";
import { join } from "node:path";

/** logs/ holds what hooks print, secrets they failed to hide included: only the operator reads it. */
export const LOG_DIR_MODE = 0o700;
export const LOG_FILE_MODE = 0o600;

/**
 * Makes `logsDir` 0700, creating it if needed. A bucket made before logs were private has a
 * 0755 logs/ full of 0644 files: the first time its mode is found wrong, everything under it
 * is fixed too (one walk, once; afterwards a single stat).
 */
export function secureLogsDir(logsDir: string): void {
  mkdirSync(logsDir, { recursive: true, mode: LOG_DIR_MODE });
  if ((lstatSync(logsDir).mode & 0o777) === LOG_DIR_MODE) return;
  fixTree(logsDir);
}

/** A private directory inside logs/ (logs/runs/<run_id>). */
export function makeLogDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: LOG_DIR_MODE });
}

/** Opens a log file for appending, 0600 even when an older maand created it world-readable. */
export function openLogFile(file: string): number {
  const fd = openSync(file, "a", LOG_FILE_MODE);
  if ((fstatSync(fd).mode & 0o777) !== LOG_FILE_MODE) fchmodSync(fd, LOG_FILE_MODE);
  return fd;
}

function fixTree(dir: string): void {
  chmodSync(dir, LOG_DIR_MODE);
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, e.name);
    if (e.isDirectory()) fixTree(path);
    else if (e.isFile()) chmodSync(path, LOG_FILE_MODE);
  }
}
