import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { planCliHooks } from "../../server/hooks/cli-targets.js";
import { runHooksAllOrNothing } from "../../server/hooks/run.js";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { InvocationRegistry } from "../../server/api/registry.js";
import { watchProcessEnd } from "../../server/hooks/process-end.js";
import { hookBucket, workers, type HookBucket } from "./fixture.js";

/**
 * The parent writes KV and exits; its forked child (SIGTERM ignored, so it outlives the group's
 * SIGTERM) waits for that exit as an event, the pipe's write end closing, then until it has been
 * reparented (the parent is fully gone), and only then tries to write with the inherited token.
 */
const FORK_AFTER_EXIT = `import os, signal, sys
from maand import put_job_variable
r, w = os.pipe()
pid = os.fork()
if pid == 0:
    os.close(w)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    parent = os.getppid()
    os.read(r, 1)                      # EOF: the parent has exited
    while os.getppid() == parent:      # and has been reaped from our point of view
        os.sched_yield()
    status = put_job_variable("from_child", "late").status_code
    out = os.path.join(os.environ["BUCKET_ROOT"], "child-status")
    with open(out + ".tmp", "w") as f:
        f.write(str(status))
    os.rename(out + ".tmp", out)
    os._exit(0)
os.close(r)
put_job_variable("from_parent", "ok").raise_for_status()
sys.exit(0)
`;

describe("an invocation ends when its script ends", () => {
  let b: HookBucket;
  before(async () => {
    b = await hookBucket();
    await b.build({
      workers: workers(1),
      jobs: { fork: { manifest: { version: "1.0.0", selectors: ["w"], hooks: { hook_fork: { executed_on: ["cli"] } } }, files: { "_hooks/hook_fork.py": FORK_AFTER_EXIT } } },
    });
  });
  after(() => b.cleanup());

  it("a child still running after the script exited gets 401 and its KV write is not committed", async () => {
    const result = await b.with((ctx) =>
      // A long grace: the child is not killed before it tries; it exits by itself right after.
      runHooksAllOrNothing(ctx, planCliHooks(ctx, { hook: "hook_fork", job: "fork" }), { execute: { killGraceMs: 60_000 } }),
    );
    assert.equal(result.status, "ok");
    assert.equal(readFileSync(join(b.root, "child-status"), "utf8"), "401", "the token died with the script");
    const kv = await b.with((ctx) => ({ keys: ctx.kv.keys("vars/job/fork"), parent: ctx.kv.get("vars/job/fork", "from_parent") }));
    assert.deepEqual(kv, { keys: ["from_parent"], parent: "ok" }, "the script's own write is committed, the child's is not");
  });
});

describe("ending an invocation at its process's exit", () => {
  it("watchProcessEnd: false while the process runs, true once it has exited", async () => {
    const child = spawn("sleep", ["300"], { stdio: "ignore" });
    const watch = watchProcessEnd(child.pid!);
    try {
      assert.equal(watch.ended(), false);
      child.kill("SIGKILL");
      await once(child, "exit");
      assert.equal(watch.ended(), true);
    } finally {
      watch.close();
    }
  });

  it("the registry drops an invocation whose process has ended at the next lookup, releasing what it held", () => {
    const registry = new InvocationRegistry();
    let ended = false;
    const released: string[] = [];
    registry.onUnregister((inv) => released.push(inv.allocId));
    const inv = registry.register({ allocId: "a1", job: "j", workerIp: "10.0.0.1", event: "cli", command: "hook_x", hasEnded: () => ended });
    assert.equal(registry.getByToken(inv.token), inv);
    assert.equal(registry.get("a1"), inv);
    ended = true;
    assert.equal(registry.getByToken(inv.token), undefined);
    assert.equal(registry.get("a1"), undefined);
    assert.deepEqual(released, ["a1"], "unregistered once: semaphores are released");
    assert.equal(registry.size, 0);
  });
});
