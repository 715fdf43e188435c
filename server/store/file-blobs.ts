import type { Db } from "./db.js";

/**
 * File contents by sha256 (file_blobs): job_files (the built snapshot) and deployed_job_files
 * (the last promoted one) hold path, mode and hash, and share one copy of each content.
 */
export type SnapshotTable = "job_files" | "deployed_job_files";

/** Reads a file's content from a snapshot (one prepared statement for many reads: staging, deploy). */
export function snapshotFileContents(db: Db, table: SnapshotTable): (job: string, path: string) => Buffer | undefined {
  const stmt = db.prepare<[string, string], { content: Buffer }>(`SELECT b.content FROM ${table} f JOIN file_blobs b ON b.hash = f.hash WHERE f.job = ? AND f.path = ?`);
  return (job, path) => stmt.get(job, path)?.content;
}

/** Stores a content under its hash unless it is there already (the caller computed the hash from it). */
export function putBlobStatement(db: Db): (hash: string, content: Buffer) => void {
  const stmt = db.prepare("INSERT OR IGNORE INTO file_blobs (hash, content) VALUES (?, ?)");
  return (hash, content) => void stmt.run(hash, content);
}

/**
 * Drops the contents neither snapshot refers to any more; call in the transaction that removed
 * or replaced rows. The hashes are read from the primary key's index: a scan of the table reads
 * every row's page, most of the content with it (2,000 files of 10 kB: 13 -> 2.5 ms from the
 * page cache, 150 -> 10 ms from disk, on every promote that changed a file).
 */
export function dropUnreferencedBlobs(db: Db): void {
  db.prepare(
    `DELETE FROM file_blobs WHERE hash IN (SELECT b.hash FROM file_blobs b INDEXED BY sqlite_autoindex_file_blobs_1
       WHERE b.hash NOT IN (SELECT hash FROM job_files) AND b.hash NOT IN (SELECT hash FROM deployed_job_files))`,
  ).run();
}
