import { SyncInputError } from "./errors.js";
import { PROTECTED_JOB_DIRS } from "./layout.js";

/** One file of a job as the catalog holds it. */
export interface SyncFile {
  /** POSIX path relative to the job directory. */
  path: string;
  /** Permission bits (0o644, 0o755...). */
  mode: number;
  /** sha256 hex of content. */
  hash: string;
  content: Buffer;
}

export interface JobSync {
  job: string;
  files: readonly SyncFile[];
  /** The seal maand recorded for this job on this worker with its last sync, if any. */
  seal?: JobSeal;
}

/** A sync seal as maand recorded it (remote-state.ts): its token and the files that sync left. */
export interface JobSeal {
  token: string;
  /** Read only when the worker confirms the seal. */
  files: () => SealedFileList;
}

/** Files as a seal's record holds them, path -> [sha256, mode] (what RemoteJobState.intact holds). */
export type SealedFileList = Record<string, [string, number]>;

/** The record of a sync that left exactly `files` on the worker, paths in order (stored as JSON, hashed). */
export function sealedFileList(files: ReadonlyArray<{ path: string; hash: string; mode: number }>): SealedFileList {
  const sorted = [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return Object.fromEntries(sorted.map((f) => [f.path, [f.hash, f.mode]]));
}

/**
 * What round-trip 1 found for one job on a worker. `intact`: files the last sync wrote and
 * that are still exactly as it left them ([sha256, mode]); `stale`: files of that sync changed
 * or removed since (by stat: inode, size, mode, mtime, ctime).
 */
export interface RemoteJobState {
  /** The worker confirmed the seal maand sent (remote-state.ts): `intact` is maand's record. */
  sealed?: boolean;
  manifest: boolean;
  dir: boolean;
  intact: Record<string, [string, number]>;
  stale: string[];
}

export interface JobSyncPlan {
  job: string;
  write: SyncFile[];
  chmod: Array<{ path: string; mode: number }>;
  delete: string[];
  /** Files of `write` that were intact-by-hash before but changed on the worker: repairs. */
  repaired: string[];
  unchanged: number;
  bytes: number;
}

const HASH = /^[0-9a-f]{64}$/;
/** Job names and bucket ids become path components on the worker. */
const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

/** A name that can be one path component under /opt/worker: no separators, not . or .. */
export const isSafeName = (s: string): boolean => NAME.test(s);

/** Every problem with the input at once, before any worker is contacted. */
export function validateJobSync(j: JobSync): void {
  const problems: string[] = [];
  if (!isSafeName(j.job)) problems.push(`job name ${JSON.stringify(j.job)}: expected letters, digits, _ . - (not starting with . or -)`);
  const paths = new Set<string>();
  for (const f of j.files) {
    const parts = f.path.split("/");
    if (!f.path || f.path.startsWith("/") || f.path.includes("\0") || parts.some((p) => p === "" || p === "." || p === ".."))
      problems.push(`${JSON.stringify(f.path)}: expected a relative POSIX path without empty, . or .. parts`);
    else if (PROTECTED_JOB_DIRS.includes(parts[0]))
      problems.push(`${f.path}: ${parts[0]}/ belongs to the worker (${PROTECTED_JOB_DIRS.map((d) => `${d}/`).join(", ")} are never synced)`);
    if (paths.has(f.path)) problems.push(`${f.path}: listed twice`);
    paths.add(f.path);
    if (!Number.isInteger(f.mode) || f.mode < 0 || f.mode > 0o7777) problems.push(`${f.path}: mode ${f.mode} is not a permission mask`);
    if (!HASH.test(f.hash)) problems.push(`${f.path}: hash ${JSON.stringify(f.hash)} is not sha256 hex`);
  }
  for (const p of paths) {
    for (let i = p.indexOf("/"); i > 0; i = p.indexOf("/", i + 1)) {
      if (paths.has(p.slice(0, i))) problems.push(`${p.slice(0, i)}: is both a file and the directory of ${p}`);
    }
  }
  if (problems.length) throw new SyncInputError(j.job, problems);
}

/** Only what differs travels: content for new or changed files, a chmod for a mode-only change. */
export function planJobSync(j: JobSync, remote: RemoteJobState | undefined): JobSyncPlan {
  const intact = remote?.intact ?? {};
  const stale = new Set(remote?.stale ?? []);
  const plan: JobSyncPlan = { job: j.job, write: [], chmod: [], delete: [], repaired: [], unchanged: 0, bytes: 0 };
  const wanted = new Set<string>();
  for (const f of j.files) {
    wanted.add(f.path);
    const have = intact[f.path];
    if (have && have[0] === f.hash) {
      if (have[1] === f.mode) plan.unchanged++;
      else plan.chmod.push({ path: f.path, mode: f.mode });
      continue;
    }
    plan.write.push(f);
    plan.bytes += f.content.length;
    if (stale.has(f.path)) plan.repaired.push(f.path);
  }
  for (const p of [...Object.keys(intact), ...stale]) if (!wanted.has(p)) plan.delete.push(p);
  plan.delete.sort();
  return plan;
}

export const planIsNoOp = (p: JobSyncPlan): boolean => p.write.length === 0 && p.chmod.length === 0 && p.delete.length === 0;
