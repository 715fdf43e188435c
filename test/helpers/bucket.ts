import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { initBucket } from "../../server/bucket/init.js";

export interface JobFixture {
  manifest?: Record<string, unknown>;
  /** path relative to the job root -> content (string) or {content, mode}. */
  files?: Record<string, string | { content: string; mode: number }>;
  /** vars.toml text */
  vars?: string;
}

export interface WorkspaceFixture {
  workers?: unknown[];
  jobs?: Record<string, JobFixture>;
  bucketConf?: string;
  bucketJobsConf?: string;
  disabled?: unknown;
}

/**
 * A fresh bucket in a temp directory; call cleanup() in an after hook. Its runtime API port is
 * 0 (a free port): a build or deploy that runs hooks must never race other tests for 8080.
 */
export async function makeBucket(prefix = "maand-test-"): Promise<{ root: string; cleanup(): void }> {
  const root = mkdtempSync(join(tmpdir(), prefix));
  await initBucket(root);
  const conf = join(root, "maand.conf");
  writeFileSync(conf, readFileSync(conf, "utf8").replace(/^hook_api_port = .*$/m, "hook_api_port = 0"));
  return { root, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

/** Writes a workspace (replacing jobs/ entirely) in an existing bucket. */
export function writeWorkspace(root: string, ws: WorkspaceFixture): void {
  const w = join(root, "workspace");
  if (ws.workers !== undefined) writeFileSync(join(w, "workers.json"), JSON.stringify(ws.workers, null, 2));
  if (ws.bucketConf !== undefined) writeFileSync(join(w, "bucket.conf"), ws.bucketConf);
  if (ws.bucketJobsConf !== undefined) writeFileSync(join(w, "bucket.jobs.conf"), ws.bucketJobsConf);
  if (ws.disabled !== undefined) writeFileSync(join(w, "disabled.json"), JSON.stringify(ws.disabled));
  else rmSync(join(w, "disabled.json"), { force: true });
  if (ws.jobs !== undefined) {
    rmSync(join(w, "jobs"), { recursive: true, force: true });
    mkdirSync(join(w, "jobs"));
    for (const [name, job] of Object.entries(ws.jobs)) writeJob(root, name, job);
  }
}

export function writeJob(root: string, name: string, job: JobFixture): void {
  const dir = join(root, "workspace", "jobs", name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "manifest.json"), JSON.stringify(job.manifest ?? {}, null, 2));
  if (job.vars !== undefined) writeFileSync(join(dir, "vars.toml"), job.vars);
  for (const [rel, spec] of Object.entries(job.files ?? {})) {
    const file = join(dir, rel);
    mkdirSync(dirname(file), { recursive: true });
    const { content, mode } = typeof spec === "string" ? { content: spec, mode: 0o644 } : spec;
    writeFileSync(file, content);
    chmodSync(file, mode);
  }
}
