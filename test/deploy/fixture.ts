import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { makeBucket, writeWorkspace, type JobFixture, type WorkspaceFixture } from "../helpers/bucket.js";
import { collect, maand, maandAsync, type CliResult } from "../helpers/cli.js";
import { connectBucket, startWorkers, type StartOptions, type WorkerSet } from "../workers/workers.js";
import { bucketDir } from "../../server/workers/layout.js";
import { recorderPy, recorderTs } from "../hooks/fixture.js";
import type { DeployPlan } from "../../server/deploy/plan-types.js";
import type { DeployResult } from "../../server/deploy/result.js";

/**
 * A bucket wired to real sshd test workers (test/workers/workers.ts): maand.conf reaches them
 * as root on their port without sudo, the set's client key is secrets/worker.key. Commands run
 * as real `maand` processes. Hooks and Makefile targets append JSON lines to one record file
 * on this host (workers share its filesystem but /opt/worker), so the order of everything that
 * ran is one file.
 */
export interface DeployBucket {
  root: string;
  set: WorkerSet;
  ips: string[];
  bucketId: string;
  recordFile: string;
  /** Writes the workspace (replacing jobs/) and runs `maand build --yes` (tests swap whole workspaces), which must succeed. */
  build(ws: WorkspaceFixture): void;
  maand(...args: string[]): CliResult;
  /** `maand deploy --json ...args`: the plan and result it printed (stdout is only JSON). */
  deploy(...args: string[]): CliResult & { plan?: DeployPlan; result?: DeployResult };
  /** Lines appended by hooks and targets since the last clearRecords(). */
  records(): Array<Record<string, string>>;
  clearRecords(): void;
  /** Host path of /opt/worker/<bucket_id>/<rel> on worker i. */
  onWorker(i: number, rel: string): string;
  db<T>(fn: (db: Database.Database) => T): T;
  cleanup(): Promise<void>;
}

/** `settings`: maand.conf lines beyond the fixture's (e.g. ssh_persist, which tests leave at 0). */
export async function deployBucket(workers: number, options: StartOptions = {}, settings: Record<string, string> = {}): Promise<DeployBucket> {
  const set = await startWorkers(workers, options);
  const b = await makeBucket("maand-deploy-");
  connectBucket(b.root, set, { settings: { ssh_connect_timeout: "5", ...settings } });
  const recordFile = join(b.root, "record.jsonl");
  const run = (...args: string[]) => maand(b.root, ...args);
  const bucketId = (JSON.parse(run("info", "--json").stdout) as { bucket_id: string }).bucket_id;
  return {
    root: b.root,
    set,
    ips: set.workers.map((w) => w.ip),
    bucketId,
    recordFile,
    build(ws) {
      writeWorkspace(b.root, ws);
      const r = run("build", "--yes");
      if (r.status !== 0) throw new Error(`maand build exited ${r.status}: ${r.stderr}${r.stdout}`);
    },
    maand: run,
    deploy(...args) {
      const r = run("deploy", "--json", ...args);
      let parsed: { plan?: DeployPlan; result?: DeployResult } = {};
      try {
        parsed = JSON.parse(r.stdout) as typeof parsed;
      } catch {
        // a failure before planning: stdout is empty, stderr has the error
      }
      return { ...r, ...parsed };
    },
    records() {
      if (!existsSync(recordFile)) return [];
      return readFileSync(recordFile, "utf8")
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, string>);
    },
    clearRecords: () => writeFileSync(recordFile, ""),
    onWorker: (i, rel) => join(set.workers[i]!.optDir, bucketDir(bucketId).slice("/opt/worker/".length), rel),
    db(fn) {
      const db = new Database(join(b.root, "data", "maand.db"), { readonly: true });
      try {
        return fn(db);
      } finally {
        db.close();
      }
    },
    async cleanup() {
      await set.stop();
      b.cleanup();
    },
  };
}

/**
 * A Makefile whose every target appends {"kind": "target", target, ip, job, current, new} to
 * the record file (the worker's address from SSH_CONNECTION) and keeps data/<target>.count, so
 * tests see what ran where, in which order, with which versions.
 */
export function recordingMakefile(recordFile: string, targets = ["start", "stop", "restart", "reload", "status"], extra: Record<string, string> = {}): string {
  const rec = (t: string) =>
    `\t@python3 -c 'import json,os,sys; c=os.environ.get("SSH_CONNECTION","").split(); open(sys.argv[1],"a").write(json.dumps({"kind":"target","target":sys.argv[2],"ip":c[2] if len(c)>2 else "","job":os.environ.get("JOB"),"current":os.environ.get("CURRENT_VERSION"),"new":os.environ.get("NEW_VERSION")})+"\\n")' ${recordFile} ${t}\n` +
    `\t@mkdir -p data && echo x >> data/${t}.count\n`;
  // An extra target outside the recorded ones is added as given (not recorded).
  const plain = Object.keys(extra).filter((t) => !targets.includes(t));
  return [...targets.map((t) => `${t}:\n${rec(t)}${extra[t] ?? ""}`), ...plain.map((t) => `${t}:\n${extra[t]}`)].join("");
}

/** A job whose Makefile records every target, with Python and Bun recorder hooks for the given events. */
export function recordingJob(recordFile: string, o: { manifest?: Record<string, unknown>; py?: string[]; ts?: string[]; files?: JobFixture["files"]; makeExtra?: Record<string, string> } = {}): JobFixture {
  const hooks: Record<string, unknown> = {};
  if (o.py?.length) hooks.hook_py = { executed_on: o.py };
  if (o.ts?.length) hooks.hook_ts = { executed_on: o.ts };
  return {
    manifest: { version: "1.0.0", selectors: ["worker"], ...o.manifest, hooks: { ...hooks, ...((o.manifest?.hooks as Record<string, unknown>) ?? {}) } },
    files: {
      Makefile: recordingMakefile(recordFile, undefined, o.makeExtra),
      "app.conf": "port = 1\n",
      ...(o.py?.length ? { "_hooks/hook_py.py": recorderPy() } : {}),
      ...(o.ts?.length ? { "_hooks/hook_ts.ts": recorderTs() } : {}),
      ...o.files,
    },
  };
}

/** Waits for a child maand to exit. */
export { collect, maandAsync };
