import assert from "node:assert/strict";
import { makeBucket, writeWorkspace, type WorkspaceFixture } from "../helpers/bucket.js";
import { bucketPaths } from "../../server/bucket/paths.js";
import { DEFAULT_CONF, type MaandConf } from "../../server/bucket/conf.js";
import { readWorkspace } from "../../server/workspace/read.js";
import { WorkspaceValidationError, type WorkspaceProblem } from "../../server/workspace/errors.js";
import type { Workspace } from "../../server/workspace/model.js";

export const HOOK_PY = "print('ok')\n";

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
