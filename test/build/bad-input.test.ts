import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeBucket, writeWorkspace, type WorkspaceFixture } from "../helpers/bucket.js";
import { openBucket } from "../../server/bucket/context.js";
import { runBuild } from "../../server/build/run.js";
import { MaandError } from "../../server/errors.js";
import { dumpCatalog, threeByThree } from "./fixture.js";

type Jobs = NonNullable<WorkspaceFixture["jobs"]>;
const manifest = (ws: WorkspaceFixture, job: string) => ws.jobs![job]!.manifest as Record<string, unknown>;
const hooks = (ws: WorkspaceFixture, job: string) => manifest(ws, job).hooks as Record<string, Record<string, unknown>>;
const addFile = (jobs: Jobs, job: string, path: string, content = "x\n") => (jobs[job]!.files = { ...jobs[job]!.files, [path]: content });

/**
 * Every kind of bad workspace input of issue 2 (SPEC §4), each applied to a good workspace that
 * was already built once: the build must fail naming the file, the JSON path or TOML line and
 * what was expected, and leave every catalog table and every KV row exactly as they were.
 */
const CASES: Array<[string, (ws: WorkspaceFixture) => void, RegExp]> = [
  ["workers.json not an array", (ws) => (ws.workers = { host: "10.0.0.1" } as unknown as unknown[]), /workspace\/workers\.json: \$: .* expected a JSON array/],
  ["worker without host", (ws) => ws.workers!.push({ labels: ["api"] }), /workers\.json: \$\[3\]\.host: is missing/],
  ["duplicate host", (ws) => ws.workers!.push({ host: "10.0.0.2" }), /workers\.json: \$\[3\]\.host: "10\.0\.0\.2" duplicates \$\[1\]\.host/],
  ["bad label", (ws) => ws.workers!.push({ host: "10.0.0.9", labels: ["has space"] }), /workers\.json: \$\[3\]\.labels\[0\]: "has space" expected a label/],
  ["memory in parsecs", (ws) => ws.workers!.push({ host: "10.0.0.9", memory: "12 parsecs" }), /workers\.json: \$\[3\]\.memory: "12 parsecs" expected a memory size/],
  ["bad cpu unit", (ws) => ws.workers!.push({ host: "10.0.0.9", cpu: "4 furlongs" }), /workers\.json: \$\[3\]\.cpu: "4 furlongs" expected a CPU speed/],
  ["tag not a string", (ws) => ws.workers!.push({ host: "10.0.0.9", tags: { zone: 1 } }), /workers\.json: \$\[3\]\.tags\.zone: 1 expected a string tag value/],
  ["unknown manifest field", (ws) => (manifest(ws, "db").replicas = 3), /jobs\/db\/manifest\.json: \$\.replicas: 3 unknown field "replicas"/],
  ["bad version", (ws) => (manifest(ws, "db").version = "two"), /jobs\/db\/manifest\.json: \$\.version: "two" expected a semver-like version/],
  ["hook name without hook_", (ws) => (hooks(ws, "api").ready = { executed_on: ["cli"] }), /jobs\/api\/manifest\.json: \$\.hooks\.ready: "ready" expected a hook name starting with "hook_"/],
  ["unknown event", (ws) => (hooks(ws, "db").hook_schema!.executed_on = ["on_boot"]), /jobs\/db\/manifest\.json: \$\.hooks\.hook_schema\.executed_on\[0\]: "on_boot" is not a hook event/],
  ["missing script", (ws) => (hooks(ws, "db").hook_other = { executed_on: ["cli"] }), /jobs\/db\/manifest\.json: \$\.hooks\.hook_other: has no script/],
  ["two scripts for one hook", (ws) => addFile(ws.jobs!, "db", "_hooks/hook_schema.ts"), /jobs\/db\/manifest\.json: \$\.hooks\.hook_schema: has 2 scripts/],
  ["partial demand", (ws) => (hooks(ws, "cache").hook_warm!.demands = { job: "db" }), /jobs\/cache\/manifest\.json: \$\.hooks\.hook_warm\.demands\.hook: is empty while demands\.job is set/],
  ["self demand", (ws) => (hooks(ws, "db").hook_schema!.demands = { job: "db", hook: "hook_schema" }), /jobs\/db\/manifest\.json: \$\.hooks\.hook_schema\.demands\.job: "db" is this hook's own job/],
  ["demand on an unknown job", (ws) => (hooks(ws, "cache").hook_warm!.demands = { job: "nosuch", hook: "hook_x" }), /jobs\/cache\/manifest\.json: \$\.hooks\.hook_warm\.demands\.job: "nosuch" expected a job/],
  ["unmet min_version", (ws) => (manifest(ws, "db").version = "0.5.0"), /jobs\/cache\/manifest\.json: \$\.hooks\.hook_warm\.demands\.config\.min_version: "1\.0\.0" is above job db's version 0\.5\.0/],
  ["demand cycle", (ws) => (hooks(ws, "db").hook_schema!.demands = { job: "cache", hook: "hook_warm" }), /closes a demand cycle/],
  ["disabled.json host that is not a string", (ws) => (ws.disabled = { jobs: { nosuch: {} }, workers: [42] }), /disabled\.json: \$\.workers\[0\]: 42 expected a worker host string/],
  ["disabled.json allocations not a list", (ws) => (ws.disabled = { jobs: { api: { allocations: "10.0.0.1" } } }), /disabled\.json: \$\.jobs\.api\.allocations: "10\.0\.0\.1" expected a non-empty array/],
  ["vars.toml syntax error", (ws) => (ws.jobs!.api!.vars = 'port = 8080\nname = "unterminated\n'), /jobs\/api\/vars\.toml: line 2, column \d+: invalid TOML/],
  ["bucket.conf syntax error", (ws) => (ws.bucketConf = 'env = "prod"\nregion = [1,\n'), /workspace\/bucket\.conf: line \d+, column \d+: invalid TOML/],
  ["bucket.jobs.conf syntax error", (ws) => (ws.bucketJobsConf = "[api\nreplicas = 2\n"), /workspace\/bucket\.jobs\.conf: line 1, column \d+: invalid TOML/],
  ...(["data", "logs", "bin"] as const).map((dir): [string, (ws: WorkspaceFixture) => void, RegExp] => [
    `runtime dir ${dir}/ at a job root`,
    (ws) => addFile(ws.jobs!, "db", `${dir}/file`),
    new RegExp(`workspace/jobs/db: ${dir}/: is a runtime directory`),
  ]),
];

describe("every bad workspace input fails the build and changes nothing (catalog + KV dump)", () => {
  let bucket: { root: string; cleanup(): void };
  let before_: Record<string, unknown[]>;
  const db = () => join(bucket.root, "data", "maand.db");

  before(async () => {
    bucket = await makeBucket();
    writeWorkspace(bucket.root, threeByThree());
    const ctx = openBucket(bucket.root);
    try {
      await runBuild(ctx);
    } finally {
      ctx.close();
    }
    before_ = dumpCatalog(db());
  });
  after(() => bucket.cleanup());

  for (const [name, breakIt, message] of CASES) {
    it(name, async () => {
      const ws = threeByThree();
      breakIt(ws);
      // ... next to a valid change that the failed build must not write either
      if (Array.isArray(ws.workers)) ws.workers.push({ host: "10.0.0.8", labels: ["api"] });
      writeWorkspace(bucket.root, ws);
      const ctx = openBucket(bucket.root);
      try {
        await assert.rejects(runBuild(ctx), (err: unknown) => {
          assert.ok(err instanceof MaandError, String(err));
          assert.match(err.message, message);
          return true;
        });
      } finally {
        ctx.close();
      }
      assert.deepEqual(dumpCatalog(db()), before_);
    });
  }
});
