import { createHash } from "node:crypto";
import { MaandError } from "../errors.js";
import { TIMEOUT_EXIT_CODES, type ExecResult } from "./channel.js";
import type { WorkerConnection } from "./connection.js";
import { SyncInputError, WorkerStepFailed, assertNotLost } from "./errors.js";
import { bucketDir, JOBS_DIR, JOBS_JSON, KEPT_ON_REMOVE, MANIFESTS_DIR, PROTECTED_JOB_DIRS, RUNNER_PATH, SEAL_SUFFIX, WORKER_JSON } from "./layout.js";
import { mapLimited } from "./limiter.js";
import type { WorkerPool } from "./pool.js";
import { MANIFEST_VERSION, parseState, sealScript, stateScript, type WorkerState } from "./remote-state.js";
import { answerLine, exchangeScript, FenceWatcher, newFence, newSealToken, SKIP } from "./sync-exchange.js";
import { isSafeName, planIsNoOp, planJobSync, validateJobSync, type JobSync, type JobSyncPlan } from "./sync-plan.js";
import { tarChunks, tarSize, type TarEntry } from "./tar.js";

/** worker.json and jobs.json, written (with bin/runner.py) in the same round-trip as the files. */
export interface WorkerLayout {
  /** Facts about the worker (worker_id, worker_ip, labels, ...); update_seq is added. */
  worker: Record<string, unknown>;
  /** Deploy increments it in the catalog on every deploy; the worker keeps the last one it got. */
  updateSeq: number;
  /** jobs.json: per job current_version / new_version (read by runner.py) and anything else deploy records. */
  jobs: Record<string, JobsJsonEntry>;
}

export interface JobsJsonEntry {
  current_version: string | null;
  new_version: string | null;
  [key: string]: unknown;
}

export interface SyncRequest {
  host: string;
  bucketId: string;
  /** Jobs whose directories should equal these files (data/ logs/ bin/ aside). */
  jobs?: readonly JobSync[];
  /** Jobs to take off this worker: everything but data/ and logs/ is removed. */
  removeJobs?: readonly string[];
  /**
   * The worker left the workspace and removeJobs takes its last job off: maand's own files go
   * too (worker.json, jobs.json, bin/runner.py, the sync manifests); jobs' data/ and logs/ stay.
   */
  retire?: boolean;
  layout?: WorkerLayout;
  signal?: AbortSignal;
  /** Per round-trip; default 2 minutes (plus a second per MB sent, for round-trip 2). */
  timeoutMs?: number;
}

export interface JobSyncResult {
  job: string;
  sent: string[];
  deleted: string[];
  chmod: string[];
  /** Files changed or deleted on the worker since the last sync, sent again. */
  repaired: string[];
  unchanged: number;
  /** Content bytes of the sent files. */
  bytes: number;
  /**
   * The token the worker now holds for this job's directory (remote-state.ts): record it with
   * the files of the request, and send it with the next sync. null: unknown (say nothing).
   */
  seal: string | null;
  /** "sealed": the worker confirmed the seal sent, and listed nothing; "full": manifest and stat listing. */
  listing: "sealed" | "full";
}

export interface SyncResult {
  host: string;
  jobs: JobSyncResult[];
  removed: string[];
  /** Layout files actually rewritten (unchanged ones are not sent). */
  layout: string[];
  /** update_seq the worker had before this sync (null on a fresh worker). */
  previousUpdateSeq: number | null;
  /** Bytes written to the worker's stdin in round-trip 2 (answer and control lines + tar), 0 when it was skipped. */
  wireBytes: number;
  roundTrips: number;
  durationMs: number;
}

const LAYOUT_NAMES = [WORKER_JSON, JOBS_JSON, RUNNER_PATH] as const;

interface ApplyReply {
  ok: boolean;
  error?: string;
  jobs: Record<string, { written: number; deleted: number; chmod: number }>;
  removed: Record<string, number>;
  layout: string[];
}

/**
 * Brings one worker's job directories to the given files, in one SSH session on one
 * connection (sync-exchange.ts), in at most two round-trips: (1) a shell script lists each
 * job's manifest and the stat of its files, compared here (remote-state.ts); (2) only when
 * something differs, the same channel carries the control line and a tar of the changed files
 * to a script that stages, verifies, renames into place and deletes. A job removal and the
 * layout files ride along in round-trip 2.
 */
export async function syncWorker(pool: WorkerPool, req: SyncRequest): Promise<SyncResult> {
  const started = performance.now();
  const jobs = req.jobs ?? [];
  const badNames = [req.bucketId, ...(req.removeJobs ?? [])].filter((n) => !isSafeName(n));
  if (badNames.length) throw new SyncInputError(badNames.join(", "), [`${badNames.map((n) => JSON.stringify(n)).join(", ")}: expected bucket ids and job names of letters, digits, _ . - (not starting with . or -)`]);
  for (const j of jobs) {
    if (pool.validatedFiles.has(j.files) && isSafeName(j.job)) continue;
    validateJobSync(j);
    pool.validatedFiles.add(j.files);
  }
  const root = bucketDir(req.bucketId);
  return pool.session(req.host, (conn) => exchange(conn, pool, req, root, started), req.signal, "sync");
}

export interface WorkerOutcome<T> {
  host: string;
  result?: T;
  /** WorkerUnreachable, WorkerStepFailed, SyncInputError, CommandInterrupted... */
  error?: MaandError | Error;
}

/** syncWorker on every request in parallel (within the pool's worker bound); one outcome per request, in order. */
export function syncWorkers(pool: WorkerPool, reqs: readonly SyncRequest[]): Promise<Array<WorkerOutcome<SyncResult>>> {
  return mapLimited(reqs, pool.options.maxWorkers, async (req) => {
    try {
      return { host: req.host, result: await syncWorker(pool, req) };
    } catch (error) {
      return { host: req.host, error: error as Error };
    }
  });
}

/** Takes a job off a worker (a removed allocation): everything in its directory but data/ and logs/. */
export async function removeJob(pool: WorkerPool, host: string, bucketId: string, job: string, signal?: AbortSignal): Promise<void> {
  await syncWorker(pool, { host, bucketId, removeJobs: [job], signal });
}

/** worker.json, jobs.json and bin/runner.py alone (when no job files change). */
export function writeLayout(pool: WorkerPool, host: string, bucketId: string, layout: WorkerLayout, signal?: AbortSignal): Promise<SyncResult> {
  return syncWorker(pool, { host, bucketId, layout, signal });
}

const STATE_STEP = "reading the worker's sync state";
const LISTING_TIMEOUT_MS = 120_000;
/** Plus a second per MB sent. */
const APPLY_TIMEOUT_MS = 120_000;
const APPLY_STEP = "applying the sync";

async function exchange(conn: WorkerConnection, pool: WorkerPool, req: SyncRequest, root: string, started: number): Promise<SyncResult> {
  const jobs = req.jobs ?? [];
  const jobNames = jobs.map((j) => j.job);
  const removeJobs = req.removeJobs ?? [];
  const fence = newFence();
  const listingSec = (req.timeoutMs ?? LISTING_TIMEOUT_MS) / 1000;
  let answer!: (parts: Iterable<Buffer>) => void;
  const answered = new Promise<Iterable<Buffer>>((resolve) => (answer = resolve));
  const seals = Object.fromEntries(jobs.flatMap((j) => (j.seal ? [[j.job, j.seal.token]] : [])));
  const token = newSealToken();
  const script = exchangeScript(stateScript(root, jobNames, req.layout ? LAYOUT_NAMES : [], seals), fence, pool.scripts.apply, sealScript(root, jobNames), {
    listingSec,
    killAfterSec: pool.options.killAfterSec,
  });
  // A job the worker confirmed sealed holds the files recorded with the token.
  const sealedFiles = (job: string) => jobs.find((j) => j.job === job)?.seal?.files();
  let decided: { state: WorkerState; plans: JobSyncPlan[]; answer: "skip" | "seal" | "apply"; wireBytes: number } | undefined;
  let stateError: Error | undefined;
  const watcher = new FenceWatcher(fence, (listing) => {
    try {
      const state = parseState(listing, jobNames, sealedFiles);
      const plans = jobs.map((j) => planJobSync(j, state.jobs[j.job]));
      const layout = req.layout ? layoutFiles(pool, req.layout, state) : [];
      if (plans.every(planIsNoOp) && layout.length === 0 && removeJobs.length === 0) {
        // Nothing to send; a job listed in full is sealed now, so the next sync needs no listing.
        const line = jobNames.every((j) => state.jobs[j]?.sealed) ? SKIP : answerLine("seal", listingSec, token);
        decided = { state, plans, answer: line === SKIP ? "skip" : "seal", wireBytes: 0 };
        return answer([Buffer.from(line)]);
      }
      const payload = applyPayload(root, plans, layout, removeJobs, req.retire ?? false, req.timeoutMs, token);
      decided = { state, plans, answer: "apply", wireBytes: payload.bytes };
      answer(payload.parts);
    } catch (err) {
      stateError = err as Error;
      answer([Buffer.from(SKIP)]);
    }
  });
  let r: ExecResult;
  try {
    // No channel deadline: each round-trip has its own on the worker (exchangeScript).
    r = await conn.exec(script, { stdin: fromPromise(answered), onStdout: watcher.push, signal: req.signal });
  } finally {
    answer([Buffer.from(SKIP)]);
  }
  if (!watcher.seen || stateError || !decided) {
    assertNotLost(req.host, STATE_STEP, r);
    if (!watcher.seen && r.exitCode !== null && TIMEOUT_EXIT_CODES.has(r.exitCode)) throw new WorkerStepFailed(req.host, STATE_STEP, `timed out after ${Math.round(r.durationMs)} ms`);
    const why = stateError?.message ?? (watcher.seen ? "no answer" : "the worker's state listing ended early");
    throw new WorkerStepFailed(req.host, STATE_STEP, `${why}: ${r.stderr.toString("utf8").trim().split("\n").slice(-3).join(" | ") || `exit code ${r.exitCode}`}`);
  }
  const none: ApplyReply = { ok: true, jobs: {}, removed: {}, layout: [] };
  // skip: the seals the worker confirmed still hold; seal: a seal that failed (best effort) is unknown.
  if (decided.answer === "skip") return finish(req, decided.plans, none, decided.state, (job) => seals[job] ?? null, 0, 1, started);
  if (decided.answer === "seal") return finish(req, decided.plans, none, decided.state, () => (r.exitCode === 0 ? token : null), 0, 2, started);
  const reply = parseReply<ApplyReply>(req.host, APPLY_STEP, { ...r, stdout: watcher.after(r.stdout), timedOut: r.exitCode !== null && TIMEOUT_EXIT_CODES.has(r.exitCode) });
  return finish(req, decided.plans, reply, decided.state, () => token, decided.wireBytes, 2, started);
}

interface LayoutFile {
  name: string;
  content: Buffer;
  mode: number;
  hash: string;
}

function layoutFiles(pool: WorkerPool, layout: WorkerLayout, state: WorkerState | undefined): LayoutFile[] {
  const files: Array<Omit<LayoutFile, "hash">> = [
    { name: WORKER_JSON, content: json({ ...layout.worker, update_seq: layout.updateSeq }), mode: 0o644 },
    { name: JOBS_JSON, content: json(layout.jobs), mode: 0o644 },
    { name: RUNNER_PATH, content: Buffer.from(pool.scripts.runner), mode: 0o755 },
  ];
  return files.filter((f) => !state?.layout[f.name]?.equals(f.content)).map((f) => ({ ...f, hash: sha256(f.content) }));
}

/** What round-trip 2 writes to the worker: the answer line, the control line, then the tar (read by remote/apply.py). */
export function applyPayload(
  root: string,
  plans: JobSyncPlan[],
  layout: LayoutFile[],
  removeJobs: readonly string[],
  retire: boolean,
  timeoutMs: number | undefined,
  token: string,
): { parts: Iterable<Buffer>; bytes: number } {
  const control = {
    root,
    jobs_dir: JOBS_DIR,
    manifests_dir: MANIFESTS_DIR,
    protected: PROTECTED_JOB_DIRS,
    kept_on_remove: KEPT_ON_REMOVE,
    manifest_version: MANIFEST_VERSION,
    seal_suffix: SEAL_SUFFIX,
    jobs: Object.fromEntries(
      plans.filter((p) => !planIsNoOp(p)).map((p) => [
        p.job,
        {
          write: Object.fromEntries(p.write.map((f) => [f.path, [f.hash, f.mode]])),
          chmod: Object.fromEntries(p.chmod.map((c) => [c.path, c.mode])),
          delete: p.delete,
        },
      ]),
    ),
    remove: removeJobs,
    retire: retire ? [WORKER_JSON, JOBS_JSON, RUNNER_PATH] : [],
    layout: Object.fromEntries(layout.map((f) => [f.name, [f.hash, f.mode]])),
    // apply.py seals the synced jobs with the token once everything is in place (remote-state.ts).
    seal: { token, jobs: plans.map((p) => p.job) },
  };
  const entries: TarEntry[] = [
    ...plans.flatMap((p) => p.write.map((f) => ({ name: `${JOBS_DIR}/${p.job}/${f.path}`, mode: f.mode, content: f.content }))),
    ...layout.map((f) => ({ name: f.name, mode: f.mode, content: f.content })),
  ];
  const size = tarSize(entries);
  const deadlineMs = timeoutMs ?? APPLY_TIMEOUT_MS + Math.ceil(size / 1_000_000) * 1000;
  const head = Buffer.from(`${answerLine("apply", deadlineMs / 1000, token)}${JSON.stringify(control)}\n`);
  function* parts(): Generator<Buffer> {
    yield head;
    yield* tarChunks(entries);
  }
  return { parts: parts(), bytes: head.length + size };
}

function finish(
  req: SyncRequest,
  plans: JobSyncPlan[],
  reply: ApplyReply,
  state: WorkerState | undefined,
  seal: (job: string) => string | null,
  wireBytes: number,
  roundTrips: number,
  started: number,
): SyncResult {
  return {
    host: req.host,
    jobs: plans.map((p) => ({
      job: p.job,
      sent: p.write.map((f) => f.path),
      deleted: p.delete,
      chmod: p.chmod.map((c) => c.path),
      repaired: p.repaired,
      unchanged: p.unchanged,
      bytes: p.bytes,
      seal: seal(p.job),
      listing: state?.jobs[p.job]?.sealed ? "sealed" : "full",
    })),
    removed: Object.keys(reply.removed),
    layout: reply.layout,
    previousUpdateSeq: state?.updateSeq ?? null,
    wireBytes,
    roundTrips,
    durationMs: performance.now() - started,
  };
}

function parseReply<T extends { ok: boolean }>(host: string, step: string, r: ExecResult): T {
  const text = r.stdout.toString("utf8");
  assertNotLost(host, step, r);
  if (r.timedOut) throw new WorkerStepFailed(host, step, `timed out after ${Math.round(r.durationMs)} ms`);
  let reply: (T & { error?: string }) | undefined;
  try {
    reply = JSON.parse(text) as T & { error?: string };
  } catch {
    reply = undefined;
  }
  if (reply && reply.ok && r.exitCode === 0) return reply;
  const detail = reply?.error ?? (r.stderr.toString("utf8").trim().split("\n").slice(-5).join(" | ") || `exit code ${r.exitCode}`);
  throw new WorkerStepFailed(host, step, r.exitCode === 127 ? `${detail} (is python3 installed on the worker?)` : detail);
}

const json = (v: unknown) => Buffer.from(`${JSON.stringify(v, null, 2)}\n`);
const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");

/** stdin that waits for maand's answer, which depends on what the worker printed first. */
async function* fromPromise(parts: Promise<Iterable<Buffer>>): AsyncGenerator<Buffer> {
  yield* await parts;
}
