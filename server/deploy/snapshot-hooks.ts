import type { BucketPaths } from "../bucket/paths.js";
import { planAllocations } from "../hooks/plan-input.js";
import type { Db } from "../store/db.js";
import { deployedJobFileContent, listDeployedJobFileHashes } from "../store/deploy-state.js";
import { sdkFiles } from "../hooks/package-files.js";
import { stageDirectory, type StageEntry } from "../hooks/stage.js";
import { stagedJobDir } from "../hooks/stager.js";
import type { HookPlanInput, HookRunRequest } from "../hooks/plan-types.js";
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import type { JobInput } from "./plan-types.js";

/**
 * Hooks of a job that left the workspace (its after_allocation_stopped hooks, run when deploy
 * stops it) come from its last deployed snapshot: build deleted its job, hook and file rows.
 */
export function snapshotHookInput(db: Db, paths: BucketPaths, request: HookRunRequest, job: JobInput): HookPlanInput {
  return {
    request,
    bucketRoot: paths.root,
    jobs: [{ name: job.job, version: job.version, maxConcurrentUpgrades: job.max_concurrent_upgrades, maxConcurrentStarts: job.max_concurrent_starts, deploymentSeq: job.deployment_seq }],
    allocations: planAllocations(db, [job.job]),
    hooks: job.hooks.map((h) => ({ job: job.job, hook: h.hook, event: h.event, script: h.script, timeoutSeconds: h.timeout_seconds, interpreter: h.interpreter })),
    rolloutOrders: {},
  };
}

/** Stages tmp/workers/<ip>/jobs/<job>/ from the deployed snapshot (and the SDKs), as hook staging does from job_files. */
export function snapshotStager(db: Db, paths: BucketPaths, job: string): (job: string, workerIp: string) => { dir: string } {
  const entries: StageEntry[] = listDeployedJobFileHashes(db, job).map((f) => ({
    path: f.path,
    mode: f.mode & 0o7777,
    hash: f.hash,
    load: () => deployedJobFileContent(db, job, f.path) ?? Buffer.alloc(0),
  }));
  for (const f of sdkFiles()) {
    if (!existsSync(f.source)) continue;
    const content = readFileSync(f.source);
    const i = entries.findIndex((e) => e.path === f.path);
    const entry = { path: f.path, mode: 0o644, hash: createHash("sha256").update(content).digest("hex"), load: () => content };
    if (i >= 0) entries[i] = entry;
    else entries.push(entry);
  }
  return (j, workerIp) => {
    const dir = stagedJobDir(paths, workerIp, j);
    stageDirectory(dir, `${dir}.staged.json`, entries);
    return { dir };
  };
}
