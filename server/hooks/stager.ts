import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { BucketPaths } from "../bucket/paths.js";
import { jobFileContents, listJobFileHashes } from "../store/catalog.js";
import type { Db } from "../store/db.js";
import { type KvReader } from "../store/kv.js";
import { LEGACY_HOOK_SCRIPT_DIR } from "../workspace/legacy.js";
import { sdkFiles } from "./package-files.js";
import { stageDirectory, type StageEntry, type StageResult } from "./stage.js";
import { allocationCertFiles } from "../certs/staged.js";

/** Contents kept in memory across allocations of one run, so N workers do not mean N reads. */
const CONTENT_CACHE_BYTES = 64 * 1024 * 1024;

export interface Stager {
  /** Stages tmp/workers/<ip>/jobs/<job>/ and returns its path. */
  stage(job: string, workerIp: string): { dir: string; result: StageResult };
}

export const stagedJobDir = (paths: BucketPaths, workerIp: string, job: string): string => join(paths.tmp, "workers", workerIp, "jobs", job);
const manifestOf = (paths: BucketPaths, workerIp: string, job: string): string =>
  join(paths.tmp, "workers", workerIp, "jobs", `${job}.staged.json`);

/**
 * Staging for one run (SPEC §7.3): the catalog's job_files (the built snapshot, not the live
 * workspace), the allocation's certs from KV and the generated SDKs in `_hooks/`. Templates are
 * staged as they are. The file list of each job is read once per run; contents only on demand.
 */
export function createStager(deps: { paths: BucketPaths; db: Db; kv: KvReader; sdk?: Array<{ path: string; source: string }> }): Stager {
  const snapshots = new Map<string, StageEntry[]>();
  const cache = new Map<string, Buffer>();
  let cached = 0;

  const contentOf = jobFileContents(deps.db);
  const load = (job: string, path: string): Buffer => {
    const id = `${job}\0${path}`;
    const hit = cache.get(id);
    if (hit) return hit;
    const content = contentOf(job, path);
    if (!content) throw new Error(`job file ${job}/${path} vanished from the catalog during the run`);
    if (cached + content.length <= CONTENT_CACHE_BYTES) {
      cache.set(id, content);
      cached += content.length;
    }
    return content;
  };

  const snapshot = (job: string): StageEntry[] => {
    let s = snapshots.get(job);
    if (!s) {
      s = listJobFileHashes(deps.db, job).map((f) => ({ path: f.path, mode: f.mode & 0o7777, hash: f.hash, load: () => load(job, f.path) }));
      snapshots.set(job, s);
    }
    return s;
  };

  const sdk: StageEntry[] = (deps.sdk ?? sdkFiles())
    .filter((f) => existsSync(f.source))
    .map((f) => bufferEntry(f.path, 0o644, readFileSync(f.source)));

  // A job laid out as the original maand's keeps its scripts in _modules/, and they import maand
  // from their own directory: the SDK goes there too (replacing the original's copy).
  const legacySdk = sdk.map((e) => ({ ...e, path: e.path.replace(/^_hooks\//, `${LEGACY_HOOK_SCRIPT_DIR}/`) }));
  const sdkFor = (files: StageEntry[]) => (files.some((f) => f.path.startsWith(`${LEGACY_HOOK_SCRIPT_DIR}/`)) ? [...sdk, ...legacySdk] : sdk);

  return {
    stage(job, workerIp) {
      const dir = stagedJobDir(deps.paths, workerIp, job);
      const certs = allocationCertFiles(deps.kv, job, workerIp).map((f) => ({ path: f.path, mode: f.mode, hash: f.hash, load: () => f.content }));
      const files = snapshot(job);
      const result = stageDirectory(dir, manifestOf(deps.paths, workerIp, job), mergeByPath(files, certs, sdkFor(files)));
      return { dir, result };
    },
  };
}

function bufferEntry(path: string, mode: number, content: Buffer): StageEntry {
  return { path, mode, hash: createHash("sha256").update(content).digest("hex"), load: () => content };
}

/** Later lists win: maand's SDK replaces a job's own `_hooks/maand.py`. */
function* mergeByPath(...lists: StageEntry[][]): Iterable<StageEntry> {
  const overridden = new Set<string>();
  for (let i = 1; i < lists.length; i++) for (const e of lists[i]!) overridden.add(e.path);
  for (const e of lists[0]!) if (!overridden.has(e.path)) yield e;
  for (let i = 1; i < lists.length; i++) yield* lists[i]!;
}
