import { createHash } from "node:crypto";
import type { Db } from "./db.js";
import { sealedFileList, type JobSeal, type SealedFileList } from "../workers/sync-plan.js";

/**
 * Sync seals as maand records them (migration 6; the protocol is in workers/remote-state.ts):
 * per allocation the token its worker holds and the files that sync left there, the list
 * stored once per distinct content (a job's workers mostly hold the same files).
 */
/** Per deploy: each distinct file list serialized and parsed once, however many workers hold it. */
export interface SealCache {
  parsed: Map<string, SealedFileList>;
  stored: WeakMap<object, string>;
}

export const newSealCache = (): SealCache => ({ parsed: new Map(), stored: new WeakMap() });

export function readSyncSeal(db: Db, allocId: string, cache: SealCache = newSealCache()): JobSeal | undefined {
  const row = db.prepare("SELECT sync_seal, sync_seal_files FROM deployments WHERE alloc_id = ?").get(allocId) as { sync_seal: string; sync_seal_files: string } | undefined;
  if (!row?.sync_seal || !row.sync_seal_files) return undefined;
  const listHash = row.sync_seal_files;
  return {
    token: row.sync_seal,
    files: () => {
      let files = cache.parsed.get(listHash);
      if (!files) {
        const list = db.prepare("SELECT files FROM sync_seal_files WHERE hash = ?").get(listHash) as { files: string } | undefined;
        // Written in the transaction that set the token, so it is there; should it not be, the
        // worker's files are unknown and the sync sends them all.
        files = list ? (JSON.parse(list.files) as SealedFileList) : {};
        cache.parsed.set(listHash, files);
      }
      return files;
    },
  };
}

/** Stores a file list unless it is there already; returns its key for deployments.sync_seal_files. */
export function putSealFiles(db: Db, files: ReadonlyArray<{ path: string; hash: string; mode: number }>, cache: SealCache = newSealCache()): string {
  let hash = cache.stored.get(files);
  if (hash === undefined) {
    const json = JSON.stringify(sealedFileList(files));
    hash = createHash("sha256").update(json).digest("hex");
    db.prepare("INSERT OR IGNORE INTO sync_seal_files (hash, files) VALUES (?, ?)").run(hash, json);
    cache.stored.set(files, hash);
  }
  return hash;
}

/** Drops the lists no allocation refers to any more; call in the transaction that changed the references. */
export function dropUnreferencedSealFiles(db: Db): void {
  db.prepare("DELETE FROM sync_seal_files WHERE hash NOT IN (SELECT sync_seal_files FROM deployments)").run();
}
