import assert from "node:assert/strict";
import { linkSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { makeBucket, writeWorkspace, type WorkspaceFixture } from "../helpers/bucket.js";
import { bucketPaths } from "../../server/bucket/paths.js";
import { DEFAULT_CONF, type MaandConf } from "../../server/bucket/conf.js";
import { readWorkspace } from "../../server/workspace/read.js";
import { WorkspaceValidationError, type WorkspaceProblem } from "../../server/workspace/errors.js";
import type { Workspace } from "../../server/workspace/model.js";

export const HOOK_PY = "print('ok')\n";

/**
 * A valid workspace of `workers` workers and `jobs` jobs, job N demanding job N-1 (so the
 * deployment_seq chain is as long as the job list), each with hooks, health checks, certs,
 * files and vars: the size test and bench/workspace.ts read the same one.
 */
export function largeValidWorkspace(workers: number, jobs: number): WorkspaceFixture {
  const name = (j: number) => `job${String(j).padStart(2, "0")}`;
  const jobSpecs: NonNullable<WorkspaceFixture["jobs"]> = {};
  for (let j = 0; j < jobs; j++) {
    const demands = j > 0 ? { job: name(j - 1), hook: "hook_ready", config: { min_version: "1.0.0" } } : undefined;
    jobSpecs[name(j)] = {
      manifest: {
        version: "1.2.0",
        selectors: [`l${j}`],
        hooks: { hook_ready: { executed_on: ["post_build", "cli"], ...(demands ? { demands } : {}) } },
        health_check: { checks: [{ type: "tcp", port: 8000 + j }] },
        certs: { server: { subject: { common_name: name(j) } } },
      },
      files: { "_hooks/hook_ready.py": HOOK_PY, Makefile: "start:\n\ttrue\n", "conf/app.conf.tpl": "x={{ .WorkerIP }}\n" },
      vars: `name = "${name(j)}"\n`,
    };
  }
  return {
    workers: Array.from({ length: workers }, (_, i) => ({
      host: `10.0.${Math.floor(i / 250)}.${(i % 250) + 1}`,
      labels: [`l${i % jobs}`, "shared"],
      memory: "16 gb",
      cpu: "3000 mhz",
      tags: { rack: `r${i % 10}` },
    })),
    jobs: jobSpecs,
    bucketJobsConf: Object.keys(jobSpecs).map((n) => `[${n}]\nx = 1\n`).join(""),
  };
}

/**
 * `dirs` directories of `perDir` files each under `root` (d<i>/f<j>.txt, content "file <i>"):
 * hard links of one file per directory, since creating thousands of distinct files costs
 * seconds on some disks and reading them is what is under test.
 */
export function writeManyFiles(root: string, dirs: number, perDir: number): void {
  for (let d = 0; d < dirs; d++) {
    mkdirSync(join(root, `d${d}`), { recursive: true });
    writeFileSync(join(root, `d${d}`, "f0.txt"), `file ${d}\n`);
    for (let f = 1; f < perDir; f++) linkSync(join(root, `d${d}`, "f0.txt"), join(root, `d${d}`, `f${f}.txt`));
  }
}

/** One bucket per test file; each case rewrites the whole workspace. */
export async function workspaceBucket() {
  const bucket = await makeBucket("maand-ws-");
  return {
    root: bucket.root,
    cleanup: bucket.cleanup,
    /** Writes a complete workspace: unspecified parts become empty. */
    write(ws: WorkspaceFixture): void {
      writeWorkspace(bucket.root, { workers: [], jobs: {}, bucketConf: "", bucketJobsConf: "", ...ws });
    },
    read(conf: Partial<MaandConf> = {}): Workspace {
      return readWorkspace(bucketPaths(bucket.root), { ...DEFAULT_CONF, ...conf });
    },
    /** Reads expecting failure; returns the error. */
    fail(conf: Partial<MaandConf> = {}): WorkspaceValidationError {
      try {
        readWorkspace(bucketPaths(bucket.root), { ...DEFAULT_CONF, ...conf });
      } catch (err) {
        assert.ok(err instanceof WorkspaceValidationError, `expected WorkspaceValidationError, got ${String(err)}`);
        assert.equal(err.exitCode, 1);
        return err;
      }
      assert.fail("expected readWorkspace to throw WorkspaceValidationError");
    },
  };
}

/**
 * Asserts exactly one problem at file+path, and that the message line for it names the value
 * (as JSON) and contains every `says` fragment. Returns the problem.
 */
export function assertProblem(
  err: WorkspaceValidationError,
  file: string,
  path: string,
  says: string[],
  value?: unknown,
): WorkspaceProblem {
  const found = err.problems.filter((p) => p.file === file && p.path === path);
  assert.equal(found.length, 1, `one problem at ${file} ${path}; got:\n${err.message}`);
  const [problem] = found;
  if (value !== undefined) assert.deepEqual(problem.value, value);
  const line = err.message.split("\n").find((l) => l.startsWith(`${file}: ${path}: `));
  assert.ok(line, `message has a line for ${file}: ${path}:\n${err.message}`);
  if (value !== undefined) assert.ok(line.includes(JSON.stringify(value)), `line names ${JSON.stringify(value)}: ${line}`);
  for (const s of says) assert.ok(line.includes(s), `line says ${JSON.stringify(s)}: ${line}`);
  return problem;
}

/** Asserts the error holds exactly these (file, path) pairs, in any order. */
export function assertOnly(err: WorkspaceValidationError, where: Array<[string, string]>): void {
  const got = err.problems.map((p) => `${p.file} ${p.path}`).sort();
  assert.deepEqual(got, where.map(([f, p]) => `${f} ${p}`).sort(), err.message);
}
