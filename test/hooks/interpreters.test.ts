import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { planCliHooks } from "../../server/hooks/cli-targets.js";
import { HookPreflightError } from "../../server/hooks/errors.js";
import { interpreterResolver } from "../../server/hooks/interpreters.js";
import { runHooksAllOrNothing } from "../../server/hooks/run.js";
import type { HookRunResult } from "../../server/hooks/result.js";
import type { RunOptions } from "../../server/hooks/session.js";
import type { PlanInputOptions } from "../../server/hooks/plan-input.js";
import { hookBucket, maand, recorderPy, recorderTs, workers, type HookBucket } from "./fixture.js";

const REAL_PYTHON = spawnSync("python3", ["-c", "import sys; sys.stdout.write(sys.executable)"], { encoding: "utf8" }).stdout;

/** A fake venv interpreter: a bash wrapper around the real python that logs each use. */
function fakeVenv(root: string, job: string, dir: ".venv" | "venv"): string {
  const bin = join(root, "workspace", "jobs", job, "_hooks", dir, "bin");
  mkdirSync(bin, { recursive: true });
  const file = join(bin, "python3");
  writeFileSync(file, `#!/bin/bash\necho "${dir} $ALLOCATION_IP" >> "$BUCKET_ROOT/venv-used"\nexec "${REAL_PYTHON}" "$@"\n`);
  chmodSync(file, 0o755);
  return file;
}

describe("hook interpreters", () => {
  let b: HookBucket;
  before(async () => {
    b = await hookBucket();
    await b.build({
      workers: workers(2),
      jobs: {
        py: { manifest: { version: "1.0.0", selectors: ["w"], max_concurrent_upgrades: 2, hooks: { hook_py: { executed_on: ["cli"] } } }, files: { "_hooks/hook_py.py": recorderPy() } },
        bun: { manifest: { version: "1.0.0", selectors: ["w"], hooks: { hook_ts: { executed_on: ["cli"] } } }, files: { "_hooks/hook_ts.ts": recorderTs() } },
        js: { manifest: { version: "1.0.0", selectors: ["w"], hooks: { hook_ts: { executed_on: ["cli"] } } }, files: { "_hooks/hook_ts.js": "require('fs').appendFileSync(process.env.BUCKET_ROOT + '/record.jsonl', JSON.stringify({JOB: process.env.JOB, ALLOCATION_IP: process.env.ALLOCATION_IP}) + '\\n');\n" } },
      },
    });
  });
  after(() => b.cleanup());

  const run = (hook: string, job?: string, planOptions: PlanInputOptions = {}, options?: RunOptions): Promise<HookRunResult> =>
    b.with((ctx) => runHooksAllOrNothing(ctx, planCliHooks(ctx, { hook, ...(job ? { job } : {}) }, planOptions), options));

  it("python3 from PATH is resolved once to its real executable (no version-manager shim per spawn)", async () => {
    b.clearRecords();
    await run("hook_py", "py");
    const recs = b.records();
    assert.equal(recs.length, 2);
    for (const r of recs) assert.equal(r.executable, REAL_PYTHON);
  });

  it("_hooks/.venv wins over _hooks/venv, which wins over PATH", async () => {
    fakeVenv(b.root, "py", "venv");
    const dotVenv = fakeVenv(b.root, "py", ".venv");
    const used = join(b.root, "venv-used");
    try {
      await run("hook_py", "py");
      assert.deepEqual(readFileSync(used, "utf8").trim().split("\n").sort(), [".venv 10.0.0.1", ".venv 10.0.0.2"]);
      rmSync(join(dotVenv, "..", ".."), { recursive: true });
      rmSync(used);
      await run("hook_py", "py");
      assert.deepEqual(readFileSync(used, "utf8").trim().split("\n").sort(), ["venv 10.0.0.1", "venv 10.0.0.2"]);
    } finally {
      rmSync(join(b.root, "workspace", "jobs", "py", "_hooks", "venv"), { recursive: true, force: true });
      rmSync(used, { force: true });
    }
  });

  it(".ts and .js hooks run under Bun with the same environment", async () => {
    b.clearRecords();
    await run("hook_ts");
    const recs = b.records();
    assert.deepEqual(recs.map((r) => `${r.JOB} ${r.ALLOCATION_IP}`).sort(), ["bun 10.0.0.1", "bun 10.0.0.2", "js 10.0.0.1", "js 10.0.0.2"]);
    const ts = recs.filter((r) => r.JOB === "bun");
    assert.ok(ts.every((r) => basename(r.executable!).startsWith("bun")), ts[0]!.executable);
    assert.ok(ts.every((r) => r.EVENT === "cli" && r.HOOK === "hook_ts" && r.ROLLOUT_ORDER_SOURCE === "kv"));
  });

  it("a missing interpreter fails the run before any hook starts, naming every problem", async () => {
    b.clearRecords();
    const resolver = interpreterResolver({ jobsDir: join(b.root, "workspace", "jobs"), path: "/nonexistent", bundledBun: () => undefined });
    await assert.rejects(run("hook_ts", undefined, { resolver }), (e: Error) => {
      assert.ok(e instanceof HookPreflightError);
      assert.match(e.message, /no hook was started/);
      assert.match(e.message, /job bun, hook_ts: bun not found on PATH/);
      assert.match(e.message, /job js, hook_ts: bun not found on PATH/);
      return true;
    });
    await assert.rejects(run("hook_py", "py", { resolver }), /job py, hook_py: python3 not found on PATH/);
    assert.equal(b.records().length, 0);
    // The check is part of the plan: --dry-run shows the interpreter and fails exactly when a run would.
    const dry = maand(b.root, "hooks", "hook_ts", "--dry-run", "--json");
    assert.equal(dry.status, 0, dry.stderr);
    assert.ok(JSON.parse(dry.stdout).steps.every((s: { interpreter: string }) => basename(s.interpreter).startsWith("bun")), dry.stdout);
  });

  it("a script missing from the built job files fails the run (and --dry-run) before any hook starts", async () => {
    b.clearRecords();
    await b.with((ctx) => ctx.db.prepare("DELETE FROM job_files WHERE job = 'js' AND path = '_hooks/hook_ts.js'").run());
    await assert.rejects(run("hook_ts"), (e: Error) => e instanceof HookPreflightError && /job js, hook_ts: script _hooks\/hook_ts\.js is not in the built job files/.test(e.message));
    assert.equal(b.records().length, 0, "not even the healthy bun job ran");
    const dry = maand(b.root, "hooks", "hook_ts", "--dry-run");
    assert.equal(dry.status, 1, dry.stdout);
    assert.match(dry.stderr, /no hook was started[^]*job js, hook_ts: script _hooks\/hook_ts\.js is not in the built job files/);
  });
});
