import { existsSync, statSync } from "node:fs";
import { BucketError } from "../errors.js";
import { openDb, type Db } from "../store/db.js";
import { KvStore } from "../store/kv.js";
import { SecretCipher } from "../store/secrets-cipher.js";
import { systemClock, type Clock } from "../store/clock.js";
import { readConfFile, type MaandConf } from "./conf.js";
import { bucketPaths, type BucketPaths } from "./paths.js";
import { acquireBucketLock, type BucketLock } from "../store/lock.js";
import { consoleLogger, type Logger } from "../log/logger.js";
import { reapOrphanedHooks } from "../hooks/orphans.js";
import type { WorkerPool } from "../workers/pool.js";
import type { TransportOptions } from "../workers/options.js";

/**
 * Everything a command needs about one bucket, passed explicitly to every server module
 * (no singletons). Close it when done: that releases the lock and the catalog.
 */
export interface BucketContext {
  paths: BucketPaths;
  conf: MaandConf;
  /** maand.conf settings read but worth a warning (original maand spellings); build prints them. */
  confWarnings: readonly string[];
  db: Db;
  kv: KvStore;
  clock: Clock;
  log: Logger;
  readonly: boolean;
  /**
   * The command's SSH connections to workers, opened on first use (one pooled connection per
   * worker for the whole command, maand.conf ssh_* settings) and closed by close().
   */
  workers(): Promise<WorkerPool>;
  close(): void;
}

export interface OpenOptions {
  /** Read-only commands (cat, info) neither lock nor migrate. */
  readonly?: boolean;
  clock?: Clock;
  log?: Logger;
  /** Replaces the transport settings from maand.conf (tests: short timeouts). */
  transport?: Partial<TransportOptions>;
}

export function assertBucket(root: string): BucketPaths {
  const paths = bucketPaths(root);
  if (!existsSync(paths.conf) || !existsSync(paths.data) || !statSync(paths.data).isDirectory()) {
    throw new BucketError(`${paths.root} is not a maand bucket (no maand.conf or data/); run 'maand init' there or pass --bucket DIR`);
  }
  return paths;
}

export function openBucket(root: string, options: OpenOptions = {}): BucketContext {
  const paths = assertBucket(root);
  const readonly = options.readonly ?? false;
  const { conf, warnings: confWarnings } = readConfFile(paths.conf);
  const lock: BucketLock | undefined = readonly ? undefined : acquireBucketLock(paths.lock);
  let db: Db;
  try {
    db = openDb(paths.db, { readonly: readonly && existsSync(paths.db) });
  } catch (err) {
    lock?.release();
    throw err;
  }
  const clock = options.clock ?? systemClock;
  const log = options.log ?? consoleLogger();
  // A maand killed mid-run (SIGKILL, a crash) leaves its hooks' process groups running: the next
  // command holding the lock stops them before it does anything else.
  if (lock) {
    const reaped = reapOrphanedHooks(paths);
    if (reaped.length) {
      log.warn(
        `stopped ${reaped.length} hook process group${reaped.length === 1 ? "" : "s"} left running by a maand that was killed ` +
          `(pid ${[...new Set(reaped.map((r) => r.owner))].join(", ")}): ${reaped.map((r) => r.pid).join(", ")}`,
      );
    }
  }
  let cipher: SecretCipher | undefined;
  const kv = new KvStore(db, () => (cipher ??= SecretCipher.fromFile(paths.kvKey)), clock);
  let pool: WorkerPool | undefined;
  return {
    paths,
    conf,
    confWarnings,
    db,
    kv,
    clock,
    log,
    readonly,
    async workers() {
      // ssh2 is loaded only by commands that reach workers.
      const [{ WorkerPool: Pool }, { transportOptions }] = await Promise.all([import("../workers/pool.js"), import("../workers/options.js")]);
      pool ??= new Pool(transportOptions(paths, conf, options.transport));
      return pool;
    },
    close() {
      pool?.close();
      if (db.open) db.close();
      lock?.release();
    },
  };
}
