import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { connect } from "node:net";
import { join } from "node:path";
import { planCliHooks } from "../../server/hooks/cli-targets.js";
import { HookRunFailed } from "../../server/hooks/errors.js";
import { runHookProcess } from "../../server/hooks/hook-process.js";
import { MAX_LINE_BYTES } from "../../server/hooks/output.js";
import { runHooksAllOrNothing } from "../../server/hooks/run.js";
import { MAX_LOG_BYTES_PER_INVOCATION } from "../../server/hooks/run-logs.js";
import type { HookRunResult } from "../../server/hooks/result.js";
import { collect, hookBucket, maandAsync, processRunning, waitFor, workers, type HookBucket } from "./fixture.js";

/**
 * Writes "<pid> <grandchild pid>" to $BUCKET_ROOT/pids/<ip> and blocks. Each SIGTERM the hook
 * gets is appended to $BUCKET_ROOT/signals/<ip> (written before anything else happens: the
 * handler is installed first); unless it ignores SIGTERM, it then dies of it.
 */
const SPAWN_AND_WAIT = (ignoreTerm: boolean) => `import signal, os
def on_term(signum, frame):
    d = os.path.join(os.environ["BUCKET_ROOT"], "signals")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, os.environ["ALLOCATION_IP"]), "a") as f:
        f.write("SIGTERM\\n")
    ${ignoreTerm ? "pass" : "signal.signal(signal.SIGTERM, signal.SIG_DFL); os.kill(os.getpid(), signal.SIGTERM)"}
signal.signal(signal.SIGTERM, on_term)
import subprocess, sys, time
child = subprocess.Popen(["sleep", "300"]${ignoreTerm ? ", preexec_fn=lambda: signal.signal(signal.SIGTERM, signal.SIG_IGN)" : ""})
d = os.path.join(os.environ["BUCKET_ROOT"], "pids")
os.makedirs(d, exist_ok=True)
with open(os.path.join(d, os.environ["ALLOCATION_IP"] + ".tmp"), "w") as f:
    f.write("%d %d" % (os.getpid(), child.pid))
os.rename(os.path.join(d, os.environ["ALLOCATION_IP"] + ".tmp"), os.path.join(d, os.environ["ALLOCATION_IP"]))
while True:
    time.sleep(300)
`;

const NOISY = `import os, sys
out = sys.stdout.buffer
out.write(b"x" * (3 * 1024 * 1024))           # 3 MiB without a newline
out.write(b"\\n")
out.write(bytes(range(256)) * 64 + b"\\n")    # binary, escape sequences included
for i in range(100000):
    out.write(b"line %d of noise\\n" % i)
out.write(b"\\x1b[31mred\\x1b[0m last line\\n")
out.flush()
sys.exit(2)
`;

const LEAVE_BEHIND = `import os, subprocess
p = subprocess.Popen(["sleep", "300"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
with open(os.path.join(os.environ["BUCKET_ROOT"], "left." + os.environ["ALLOCATION_IP"]), "w") as f:
    f.write(str(p.pid))
`;

const SLOW_WRITER = `import os
from maand import allocation_ip, put_job_variable
put_job_variable("written_" + allocation_ip(), "v").raise_for_status()
with open(os.path.join(os.environ["BUCKET_ROOT"], "api-port"), "w") as f:
    f.write(os.environ["HOOK_API_PORT"])
${SPAWN_AND_WAIT(false)}`;

function pids(b: HookBucket): Array<[number, number]> {
  const dir = join(b.root, "pids");
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => !f.endsWith(".tmp"))
    .map((f) => readFileSync(join(dir, f), "utf8").split(" ").map(Number) as [number, number]);
}

describe("hook processes: timeouts, process groups, hostile output, Ctrl-C", () => {
  let b: HookBucket;
  before(async () => {
    b = await hookBucket();
    await b.build({
      workers: workers(3),
      jobs: {
        hang: { manifest: { version: "1.0.0", selectors: ["w"], max_concurrent_upgrades: 3, hooks: { hook_hang: { executed_on: ["cli"], timeout_seconds: 1 } } }, files: { "_hooks/hook_hang.py": SPAWN_AND_WAIT(false) } },
        stubborn: {
          manifest: { version: "1.0.0", selectors: ["w"], hooks: { hook_stubborn: { executed_on: ["cli"], timeout_seconds: 1 } } },
          files: { "_hooks/hook_stubborn.py": SPAWN_AND_WAIT(true) },
        },
        noisy: { manifest: { version: "1.0.0", selectors: ["w"], hooks: { hook_noisy: { executed_on: ["cli"] } } }, files: { "_hooks/hook_noisy.py": NOISY } },
        leave: { manifest: { version: "1.0.0", selectors: ["w"], hooks: { hook_leave: { executed_on: ["cli"] } } }, files: { "_hooks/hook_leave.py": LEAVE_BEHIND } },
        slow: { manifest: { version: "1.0.0", selectors: ["w"], max_concurrent_upgrades: 2, hooks: { hook_slow: { executed_on: ["cli"] } } }, files: { "_hooks/hook_slow.py": SLOW_WRITER } },
      },
    });
  });
  after(() => b.cleanup());

  const run = (job: string, hook: string, killGraceMs?: number): Promise<HookRunResult> =>
    b.with((ctx) =>
      runHooksAllOrNothing(ctx, planCliHooks(ctx, { hook, job, allocations: "10.0.0.1" }), {
        ...(killGraceMs ? { execute: { killGraceMs } } : {}),
      }),
    );

  const signalsGot = (ip: string): string => readFileSync(join(b.root, "signals", ip), "utf8");

  it("a hook past timeout_seconds is killed with its whole process group, grandchildren included", async () => {
    const err = (await run("hang", "hook_hang").catch((e: unknown) => e)) as HookRunFailed;
    assert.ok(err instanceof HookRunFailed && /10\.0\.0\.1 .*timed out after 1 s/.test(err.message), String(err));
    const inv = err.result.invocations[0]!;
    assert.equal(inv.status, "timeout");
    // SIGTERM ended it: the hook saw SIGTERM and died of it; SIGKILL (after the 5 s grace) never came.
    assert.equal(signalsGot("10.0.0.1"), "SIGTERM\n");
    assert.equal(inv.signal, "SIGTERM");
    const [[hook, grandchild]] = pids(b) as [[number, number]];
    assert.ok(!processRunning(hook) && !processRunning(grandchild), "hook and its sleep grandchild are gone");
  });

  it("a group ignoring SIGTERM gets SIGKILL after the grace period", async () => {
    rmSync(join(b.root, "pids"), { recursive: true, force: true });
    rmSync(join(b.root, "signals"), { recursive: true, force: true });
    const err = (await run("stubborn", "hook_stubborn", 500).catch((e: unknown) => e)) as HookRunFailed;
    assert.ok(err instanceof HookRunFailed);
    assert.equal(err.result.invocations[0]!.status, "timeout");
    // SIGTERM first (the hook recorded it and went on), then SIGKILL. That SIGKILL waits for the
    // grace period exactly is terminateGroup's own test (process-group.test.ts, mocked clock).
    assert.equal(signalsGot("10.0.0.1"), "SIGTERM\n");
    assert.equal(err.result.invocations[0]!.signal, "SIGKILL");
    const [[hook, grandchild]] = pids(b) as [[number, number]];
    assert.ok(!processRunning(hook) && !processRunning(grandchild));
  });

  it("processes a hook leaves running after it exits are killed with its group", async () => {
    const result = await run("leave", "hook_leave");
    assert.equal(result.status, "ok");
    const pid = Number(readFileSync(join(b.root, "left.10.0.0.1"), "utf8"));
    await waitFor(() => !processRunning(pid), 2000, "the left-behind sleep to be killed");
  });

  it("megabytes and binary output: lines capped, logs bounded, last 20 sanitised lines reported", async () => {
    const err = (await run("noisy", "hook_noisy").catch((e: unknown) => e)) as HookRunFailed;
    assert.ok(err instanceof HookRunFailed, String(err));
    const inv = err.result.invocations[0]!;
    assert.equal(inv.exitCode, 2);
    assert.equal(inv.tail.length, 20);
    assert.equal(inv.tail[19], "\uFFFD[31mred\uFFFD[0m last line", "escape characters neutralised");
    assert.equal(inv.tail[18], "line 99999 of noise");
    const log = join(err.result.logsDir, "noisy.hook_noisy.10.0.0.1.log");
    const size = statSync(log).size;
    assert.ok(size <= MAX_LOG_BYTES_PER_INVOCATION + 64 * 1024, `log of ${size} bytes is capped`);
    const lines = readFileSync(log, "utf8").split("\n");
    assert.ok(lines.every((l) => Buffer.byteLength(l) < MAX_LINE_BYTES * 3 + 512), "no line beyond the cap");
    assert.ok(lines.some((l) => l.endsWith("…[line truncated]")));
    assert.ok(lines.some((l) => /stream=maand output beyond \d+ bytes not logged/.test(l)));
  });

  // SIGINT is Ctrl-C; SIGHUP is the terminal closing, which never reaches the hooks themselves
  // (each runs in its own process group), so maand must stop them.
  for (const sig of ["SIGINT", "SIGHUP"] as const) it(`${sig} stops every hook and its children, persists nothing, frees the port and exits 130`, async () => {
    rmSync(join(b.root, "pids"), { recursive: true, force: true });
    const child = maandAsync(b.root, "hooks", "hook_slow", "slow");
    const done = collect(child);
    await waitFor(() => pids(b).length === 2, 10_000, "both hooks of the first batch to start");
    const port = Number(readFileSync(join(b.root, "api-port"), "utf8"));
    assert.ok(await listening(port));
    child.kill(sig);
    const r = await done;
    assert.equal(r.status, 130, r.stderr);
    assert.match(r.stderr, /interrupted/);
    for (const [hook, grandchild] of pids(b)) assert.ok(!processRunning(hook) && !processRunning(grandchild), `pid ${hook}/${grandchild} left running`);
    assert.equal(pids(b).length, 2, "the second batch never started");
    const written = await b.with((ctx) => ctx.kv.keys("vars/job/slow"));
    assert.deepEqual(written, [], "nothing persisted");
    assert.equal(await listening(port), false, "runtime API port freed");
    // The lock is released: the same bucket opens for writing at once.
    await b.with(() => undefined);
  });
});

describe("runHookProcess timeouts", () => {
  it("a timeout beyond what a Node timer holds (2^31-1 ms) does not fire at once", async () => {
    const dir = mkdtempSync(join(tmpdir(), "maand-timer-"));
    try {
      writeFileSync(join(dir, "hook.sh"), "sleep 0.2\n");
      const r = await runHookProcess({ interpreter: "/bin/sh", script: "hook.sh", cwd: dir, env: process.env, timeoutMs: 3_000_000_000, killGraceMs: 100, onLines: () => {} });
      assert.equal(r.timedOut, false);
      assert.equal(r.exitCode, 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** Resolves true when something listens on 127.0.0.1:port. */
export function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: "127.0.0.1", port }, () => {
      s.destroy();
      resolve(true);
    });
    s.on("error", () => resolve(false));
  });
}
