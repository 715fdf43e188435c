import Database from "better-sqlite3";
import { BucketError } from "../errors.js";
import { MIGRATIONS } from "./migrations.js";

export type Db = Database.Database;

export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Opens the catalog with WAL and synchronous=FULL, so a kill -9 at any point loses nothing
 * that was committed, then migrates the schema forward.
 */
export function openDb(file: string, options: { readonly?: boolean } = {}): Db {
  let db: Db;
  try {
    db = new Database(file, { readonly: options.readonly ?? false, fileMustExist: options.readonly ?? false });
  } catch (err) {
    throw new BucketError(`cannot open catalog ${file}: ${(err as Error).message}`, { cause: err });
  }
  db.pragma("busy_timeout = 5000");
  if (!options.readonly) {
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = FULL");
    db.pragma("foreign_keys = ON");
    migrate(db);
  } else if (schemaVersion(db) < SCHEMA_VERSION) {
    // A read-only open cannot migrate; the next mutating command will.
    throw new BucketError(`catalog ${file} has schema version ${schemaVersion(db)}; run 'maand build' to migrate it to ${SCHEMA_VERSION}`);
  }
  return db;
}

export function schemaVersion(db: Db): number {
  const exists = db.prepare("SELECT 1 FROM sqlite_master WHERE type='table' AND name='schema_version'").get();
  if (!exists) return 0;
  const row = db.prepare("SELECT version FROM schema_version").get() as { version: number } | undefined;
  return row?.version ?? 0;
}

function migrate(db: Db): void {
  db.exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
  const current = schemaVersion(db);
  if (current > SCHEMA_VERSION) {
    throw new BucketError(`catalog schema version ${current} is newer than this maand supports (${SCHEMA_VERSION}); upgrade maand`);
  }
  for (let v = current; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]!);
      db.prepare("DELETE FROM schema_version").run();
      db.prepare("INSERT INTO schema_version (version) VALUES (?)").run(v + 1);
    }).immediate();
  }
}
