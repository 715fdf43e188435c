import { jobFileContents, listJobFileHashes } from "../store/catalog.js";
import type { Db } from "../store/db.js";
import type { KvReader } from "../store/kv.js";
import type { SyncFile } from "../workers/sync-plan.js";
import { allocationCertFiles } from "../certs/staged.js";
import { contentHash, isSyncedPath } from "./content.js";

/**
 * Deploy's staging, in memory: the catalog's job files (`{path, mode, hash, content}`, exactly
 * what sync takes) plus the allocation's certs from KV, handed to the render step, whose output
 * is what goes to the worker and what the content hash is taken from. Nothing is written to
 * tmp/: a 2,000-file job is staged for 32 workers without touching the disk, and the files are
 * shared between allocations until a render step makes them differ.
 */

/** One allocation's files before rendering. */
export interface RenderInput {
  job: string;
  workerIp: string;
  allocId: string;
  /** The built snapshot of the job (minus _hooks/) followed by the allocation's certs. */
  files: readonly SyncFile[];
  /** What templates read: the committed KV when planning, the deploy session's (pre_deploy's writes visible) when applying. */
  kv: KvReader;
}

/**
 * Turns an allocation's staged files into what is synced: render.ts's templateRender (the
 * default) renders `*.tpl` and drops them. It runs after the job's pre_deploy hooks, and at
 * plan time with the committed KV (the content hash is the rendered output's); a throw fails
 * the allocation's job with the message as its error. Synchronous, so planning stays a plain
 * read.
 */
export type RenderStep = (input: RenderInput) => readonly SyncFile[];

export interface StagedAllocation {
  allocId: string;
  workerIp: string;
  /** Without certs and templates, the job's own list (the same array for every allocation). */
  files: readonly SyncFile[];
  hash: string;
}

/**
 * The job's synced files from the catalog. Contents are read on first access (and then kept):
 * sync touches only the content of files it sends, so a one-file change of a 20 MB job reads
 * one file, not twenty megabytes, and every allocation shares the same objects.
 */
export function jobSyncFiles(db: Db, job: string): SyncFile[] {
  const content = jobFileContents(db);
  return listJobFileHashes(db, job)
    .filter((f) => isSyncedPath(f.path))
    .map((f) => {
      let loaded: Buffer | undefined;
      return {
        path: f.path,
        mode: f.mode & 0o7777,
        hash: f.hash,
        get content(): Buffer {
          loaded ??= content(job, f.path);
          if (!loaded) throw new Error(`job file ${job}/${f.path} vanished from the catalog during the deploy`);
          return loaded;
        },
      };
    });
}

/** Certs from KV replace a job file at the same path (as hook staging does). */
export function withCerts<T extends { path: string }>(files: readonly T[], certs: readonly T[]): readonly T[] {
  // No certs: the job's own list, shared by its allocations (per-list work, such as a sync
  // seal's record, is then done once).
  if (!certs.length) return files;
  const certPaths = new Set(certs.map((c) => c.path));
  return [...files.filter((f) => !certPaths.has(f.path)), ...certs];
}

export function stageAllocation(
  deps: { kv: KvReader; render: RenderStep; hashes?: WeakMap<readonly SyncFile[], string> },
  job: string,
  alloc: { alloc_id: string; worker_ip: string },
  jobFiles: readonly SyncFile[],
): StagedAllocation {
  const files = withCerts(jobFiles, allocationCertFiles(deps.kv, job, alloc.worker_ip));
  const rendered = deps.render({ job, workerIp: alloc.worker_ip, allocId: alloc.alloc_id, files, kv: deps.kv });
  // Allocations sharing the job's list (no certs, no templates) share its hash: computed once.
  let hash = deps.hashes?.get(rendered);
  if (hash === undefined) {
    hash = contentHash(rendered);
    deps.hashes?.set(rendered, hash);
  }
  return { allocId: alloc.alloc_id, workerIp: alloc.worker_ip, files: rendered, hash };
}
