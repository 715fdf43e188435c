import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { appendFileSync, existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { collect, hookBucket, maand, maandAsync, processRunning, waitFor, workers, type HookBucket } from "./fixture.js";

/**
 * A maand killed by SIGKILL cannot stop its hooks (each runs in its own process group); the next
 * maand command that holds the bucket lock stops the groups it recorded, and says so.
 */
const LINGER = `import os, time
with open(os.path.join(os.environ["BUCKET_ROOT"], "pid-" + os.environ["ALLOCATION_IP"]), "w") as f:
    f.write(str(os.getpid()))
time.sleep(600)
`;

describe("hook process groups left by a killed maand", () => {
  let b: HookBucket;
  before(async () => {
    b = await hookBucket();
    await b.build({
      workers: workers(2),
      jobs: { api: { manifest: { version: "1.0.0", selectors: ["w"], max_concurrent_upgrades: 2, hooks: { hook_linger: { executed_on: ["cli"] } } }, files: { "_hooks/hook_linger.py": LINGER } } },
    });
  });
  after(() => b.cleanup());

  const pidOf = (ip: string) => Number(readFileSync(join(b.root, `pid-${ip}`), "utf8"));

  it("are stopped by the next mutating command, which names them; read-only commands leave them", async () => {
    const child = maandAsync(b.root, "hooks", "hook_linger", "api");
    const done = collect(child);
    await waitFor(() => existsSync(join(b.root, "pid-10.0.0.1")) && existsSync(join(b.root, "pid-10.0.0.2")), 30_000, "both hooks to start");
    const pids = [pidOf("10.0.0.1"), pidOf("10.0.0.2")];
    child.kill("SIGKILL");
    await done;
    assert.ok(pids.every(processRunning), "the hooks outlived their maand");
    const cat = maand(b.root, "cat", "workers");
    assert.equal(cat.status, 0);
    assert.ok(pids.every(processRunning), "cat (read-only, no lock) stops nothing");
    const next = maand(b.root, "build");
    assert.equal(next.status, 0, next.stderr);
    assert.match(next.stderr, new RegExp(`^warning: stopped 2 hook process groups left running by a maand that was killed \\(pid ${child.pid}\\): `, "m"));
    for (const pid of pids) assert.match(next.stderr, new RegExp(`\\b${pid}\\b`));
    await waitFor(() => pids.every((p) => !processRunning(p)), 10_000, "the orphans to be gone");
    // said once: the record is cleared
    assert.doesNotMatch(maand(b.root, "build").stderr, /hook process group/);
  });

  it("never signals a pid the system has reused: the recorded start time must match", () => {
    // This test process stands in for a reused pid: recorded with another start time, it must survive.
    appendFileSync(join(b.root, "tmp", "hook-processes"), `+ ${process.pid} 1 999999999\n`);
    const r = maand(b.root, "build");
    assert.equal(r.status, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /hook process group/);
    assert.ok(processRunning(process.pid));
  });
});
