import { posix } from "node:path";
import { RUNTIME_DIRS } from "../workspace/job-files.js";

/**
 * Where a bucket lives on a worker, defined once: deploy, the runner, codegen's SDK values and
 * the tests all derive their paths from here.
 *
 *   /opt/worker/<bucket_id>/
 *     worker.json            worker facts + update_seq (written by every deploy)
 *     jobs.json              per job: current_version, new_version, ...
 *     bin/runner.py          the worker-side runner (runs Makefile targets)
 *     jobs/<job>/            the job's files as synced; data/ logs/ bin/ belong to the job
 *     manifests/<job>.json   what the last sync wrote into jobs/<job>/ (see sync-plan.ts)
 *     manifests/<job>.seal   the last sync's token and a digest of jobs/<job>/'s stat listing (remote-state.ts)
 */
export const WORKER_ROOT = "/opt/worker";
export const WORKER_JSON = "worker.json";
export const JOBS_JSON = "jobs.json";
export const RUNNER_PATH = "bin/runner.py";
export const JOBS_DIR = "jobs";
export const MANIFESTS_DIR = "manifests";
/** Beside a job's manifest: `<token> <digest>` of the sync that left the job directory as it is (remote-state.ts). */
export const SEAL_SUFFIX = ".seal";

/** Job directories the worker owns at run time: a sync never writes, deletes or lists in them. */
export const PROTECTED_JOB_DIRS: readonly string[] = RUNTIME_DIRS;
/** What survives removing a job from a worker: its state and logs, in case it comes back. */
export const KEPT_ON_REMOVE: readonly string[] = ["data", "logs"];

export const bucketDir = (bucketId: string): string => posix.join(WORKER_ROOT, bucketId);
export const jobDir = (bucketId: string, job: string): string => posix.join(bucketDir(bucketId), JOBS_DIR, job);
export const runnerPath = (bucketId: string): string => posix.join(bucketDir(bucketId), RUNNER_PATH);
export const manifestPath = (bucketId: string, job: string): string => posix.join(bucketDir(bucketId), MANIFESTS_DIR, `${job}.json`);
