import { createHash } from "node:crypto";

/**
 * What of a job goes to its workers, and the content hash that decides whether an allocation
 * changed. `_hooks/` stays on the CLI host (hooks run there; a worker has no use for them, nor
 * for the SDK and venv beside them). manifest.json travels (a job may read its own manifest)
 * but is left out of the hash: the version it carries is compared on its own (version_changed,
 * a reload under restart_policy "reload"), and its other fields (hooks, batch widths) are
 * orchestration, not what runs; editing them must not restart a service.
 */
export const CLI_HOST_DIR = "_hooks";
export const MANIFEST_FILE = "manifest.json";

export const isSyncedPath = (path: string): boolean => path !== CLI_HOST_DIR && !path.startsWith(`${CLI_HOST_DIR}/`);

/**
 * The planned hash of an allocation whose templates did not render at plan time: never a
 * promoted hash (those are sha256 hex), so the job is planned as changed and renders again
 * after its pre_deploy hooks.
 */
export const UNRENDERED_HASH = "unrendered";

export interface HashedFile {
  path: string;
  mode: number;
  hash: string;
}

/** sha256 over (path, mode, content hash) of every file but manifest.json, sorted by path. */
export function contentHash(files: Iterable<HashedFile>): string {
  const rows = [...files].filter((f) => f.path !== MANIFEST_FILE).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const h = createHash("sha256");
  for (const f of rows) h.update(`${f.path}\0${(f.mode & 0o7777).toString(8)}\0${f.hash}\n`);
  return h.digest("hex");
}
