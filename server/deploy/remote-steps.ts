import { CommandInterrupted, WorkerUnreachable } from "../workers/errors.js";
import { runTarget } from "../workers/runner.js";
import { syncWorker } from "../workers/sync.js";
import type { SyncFile } from "../workers/sync-plan.js";
import type { StepKind, StepRecord, StepStatus } from "../rollout/events.js";
import { recordStep, workerHoldsOtherJobs } from "../store/deploy-state.js";
import { dropUnreferencedSealFiles, putSealFiles, readSyncSeal } from "../store/sync-seals.js";
import type { StepRun } from "./job-run.js";
import { workerLayout } from "./worker-layout.js";

/** Which step this is, for its record. */
export interface StepBase {
  job: string;
  alloc_id: string;
  worker: string;
  step: StepKind;
  name: string;
  phase: string | null;
  batch_index: number;
  batch_count: number;
}

/** What a step came to: the part of its record that is not which step or when. */
export interface Outcome {
  status: StepStatus;
  exit_code: number | null;
  timed_out: boolean;
  unreachable: boolean;
  error: string | null;
  tail: string[];
}

/** Times `fn`, turns what it returns or throws into a StepRecord, and records it. */
async function timed(run: StepRun, base: StepBase, fn: () => Promise<Outcome>): Promise<StepRecord> {
  run.reporter?.stepStart?.(base);
  const t0 = run.ctx.clock.now();
  let o: Outcome;
  try {
    o = await fn();
  } catch (err) {
    o = failure(err);
  }
  const t1 = run.ctx.clock.now();
  const record = stepRecord(run, base, { ...o, error: o.error === null ? null : run.redact(o.error), tail: o.tail.map((l) => run.redact(l)) }, t0, t1);
  run.record(record);
  return record;
}

/** A step's record for the result and events.jsonl (remote steps here, the health gate's checks). */
export function stepRecord(run: StepRun, base: StepBase, outcome: Outcome, t0: number, t1: number): StepRecord {
  return {
    run_id: run.runId,
    command: run.command,
    wave_index: run.waveIndex,
    ...base,
    event: null,
    ...outcome,
    started_at: new Date(t0).toISOString(),
    ended_at: new Date(t1).toISOString(),
    duration_ms: t1 - t0,
  };
}

function failure(err: unknown): Outcome {
  if (err instanceof CommandInterrupted) return { status: "interrupted", exit_code: null, timed_out: false, unreachable: false, error: "stopped by Ctrl-C", tail: [] };
  const unreachable = err instanceof WorkerUnreachable;
  return { status: "failed", exit_code: null, timed_out: false, unreachable, error: (err as Error).message, tail: [] };
}

const ok = (): Outcome => ({ status: "ok", exit_code: 0, timed_out: false, unreachable: false, error: null, tail: [] });

/** The last-deploy columns; only deploy writes them (see recordStep). */
export const outcomeOf = (run: StepRun, r: StepRecord) => (run.command === "deploy" ? { run_id: run.runId, at: run.ctx.clock.now(), result: r.status, step: `${r.step} ${r.name}`, error: r.error ?? "" } : null);

/**
 * Syncs one allocation's staged files (and the worker's layout files) and records synced_hash
 * and the worker's new sync seal with the files it now holds.
 */
export async function syncStep(run: StepRun, base: StepBase, files: readonly SyncFile[], hash: string): Promise<StepRecord> {
  const db = run.ctx.db;
  const seal = readSyncSeal(db, base.alloc_id, run.seals);
  let sealed: string | null = null;
  const r = await timed(run, base, async () => {
    const layout = workerLayout(db, run.bucketId, base.worker, run.updateSeq);
    const res = await syncWorker(run.pool, { host: base.worker, bucketId: run.bucketId, jobs: [{ job: base.job, files, ...(seal ? { seal } : {}) }], ...(layout ? { layout } : {}), signal: run.signal });
    const j = res.jobs[0];
    sealed = j?.seal ?? null;
    if (layout) run.touched.set(base.worker, JSON.stringify(layout));
    // What travelled, for events.jsonl (a sync step's only line).
    const summary = j ? `sent ${j.sent.length} (${j.bytes} bytes), deleted ${j.deleted.length}, chmod ${j.chmod.length}, repaired ${j.repaired.length}, unchanged ${j.unchanged}; worker listing ${j.listing}` : "";
    return { ...ok(), tail: summary ? [summary] : [] };
  });
  const alloc = { alloc_id: base.alloc_id, job: base.job, worker_ip: base.worker };
  if (r.status !== "ok") recordStep(db, alloc, {}, outcomeOf(run, r));
  else if (sealed === seal?.token) recordStep(db, alloc, { synced_hash: hash }, outcomeOf(run, r));
  else {
    // A new seal (or none known): its token and file list replace the previous ones together.
    db.transaction(() => {
      recordStep(db, alloc, { synced_hash: hash, sync_seal: sealed ?? "", sync_seal_files: sealed ? putSealFiles(db, files, run.seals) : "" }, outcomeOf(run, r));
      dropUnreferencedSealFiles(db);
    })();
  }
  return r;
}

/** One Makefile target through runner.py, with CURRENT_VERSION / NEW_VERSION; records what it changed. */
export async function targetStep(
  run: StepRun,
  base: StepBase,
  versions: { current: string; next: string },
  /** What the target leaves true on the worker; null records nothing (`maand job status`). */
  onOk: Parameters<typeof recordStep>[2] | null,
): Promise<StepRecord> {
  const r = await timed(run, base, async () => {
    const res = await runTarget(run.pool, {
      host: base.worker,
      bucketId: run.bucketId,
      target: base.name,
      jobs: [base.job],
      timeoutSec: run.targetTimeoutSec,
      env: { CURRENT_VERSION: versions.current, NEW_VERSION: versions.next },
      signal: run.signal,
      // --verbose: make's lines as they come, not when the target ends.
      ...(run.verbose && run.reporter?.output ? { onLine: (line: string) => run.reporter!.output!(base, [run.redact(line)]) } : {}),
    });
    const j = res.jobs[0];
    if (run.signal.aborted) return { status: "interrupted", exit_code: j?.exit_code ?? null, timed_out: false, unreachable: false, error: "stopped by Ctrl-C", tail: j?.tail ?? [] };
    if (res.ok && j && j.error === null) return { ...ok(), tail: run.keepTail ? j.tail : [] };
    return {
      status: j?.timed_out ? "timeout" : "failed",
      exit_code: j?.exit_code ?? null,
      timed_out: j?.timed_out ?? false,
      unreachable: false,
      error: j?.error ?? "runner.py reported no result",
      tail: j?.tail ?? [],
    };
  });
  if (onOk) recordStep(run.ctx.db, { alloc_id: base.alloc_id, job: base.job, worker_ip: base.worker }, r.status === "ok" ? onOk : {}, outcomeOf(run, r));
  return r;
}

/** Takes a removed allocation's job off its worker (data/ and logs/ stay) and marks it cleaned. */
export async function removeStep(run: StepRun, base: StepBase): Promise<StepRecord> {
  const r = await timed(run, base, async () => {
    const layout = workerLayout(run.ctx.db, run.bucketId, base.worker, run.updateSeq);
    // A worker that left the workspace loses maand's files with its last job.
    const retire = !layout && !workerHoldsOtherJobs(run.ctx.db, base.worker, base.alloc_id);
    await syncWorker(run.pool, { host: base.worker, bucketId: run.bucketId, removeJobs: [base.job], ...(layout ? { layout } : {}), retire, signal: run.signal });
    return ok();
  });
  recordStep(run.ctx.db, { alloc_id: base.alloc_id, job: base.job, worker_ip: base.worker }, r.status === "ok" ? { cleaned: 1, running: 0, sync_seal: "", sync_seal_files: "" } : {}, outcomeOf(run, r));
  return r;
}

/** A step of a batch that did not start, for the result and events.jsonl. */
export function skippedStep(run: StepRun, base: StepBase): StepRecord {
  const r: StepRecord = {
    run_id: run.runId,
    command: run.command,
    wave_index: run.waveIndex,
    ...base,
    event: null,
    status: "skipped",
    started_at: null,
    ended_at: null,
    duration_ms: 0,
    exit_code: null,
    timed_out: false,
    unreachable: false,
    error: null,
    tail: [],
  };
  run.record(r);
  return r;
}
