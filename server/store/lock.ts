import Database from "better-sqlite3";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { BucketLockedError } from "../errors.js";

export interface BucketLock {
  release(): void;
}

/**
 * The mutating-command lock. An exclusive SQLite transaction on data/maand.lock is an fcntl lock
 * that the kernel drops when its process dies, so a lock left by a kill -9 is taken over by the
 * next command without any stale-pid guessing. The holder's pid sits in maand.lock.pid so the
 * loser can name it.
 */
export function acquireBucketLock(lockFile: string): BucketLock {
  const pidFile = `${lockFile}.pid`;
  const db = new Database(lockFile);
  db.pragma("busy_timeout = 0");
  try {
    db.exec("BEGIN EXCLUSIVE");
  } catch (err) {
    db.close();
    if ((err as { code?: string }).code?.startsWith("SQLITE_BUSY")) {
      throw new BucketLockedError(readHolder(pidFile), lockFile);
    }
    throw err;
  }
  writeFileSync(pidFile, `${process.pid}\n`);
  let released = false;
  return {
    release() {
      if (released) return;
      released = true;
      rmSync(pidFile, { force: true });
      db.close();
    },
  };
}

function readHolder(pidFile: string): number {
  try {
    const pid = Number.parseInt(readFileSync(pidFile, "utf8"), 10);
    return Number.isFinite(pid) ? pid : 0;
  } catch {
    return 0;
  }
}
