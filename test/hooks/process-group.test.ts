import { describe, it, mock } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { terminateGroup } from "../../server/hooks/process-group.js";
import { processRunning } from "../helpers/wait.js";

/**
 * A process group led by python3 that prints "ready <sleep pid>" once its SIGTERM handler is installed and
 * "TERM" each time SIGTERM arrives; `dieOnTerm` makes it exit by the signal instead of going on.
 * It forks a `sleep` into the group, so "the group" is more than its leader.
 */
function group(dieOnTerm: boolean): { child: ChildProcess; lines: AsyncIterator<string> } {
  const script = `import os, signal, subprocess, sys, time
def on_term(signum, frame):
    print("TERM", flush=True)
    ${dieOnTerm ? "signal.signal(signal.SIGTERM, signal.SIG_DFL); os.kill(os.getpid(), signal.SIGTERM)" : "pass"}
signal.signal(signal.SIGTERM, on_term)
sleeper = subprocess.Popen(["sleep", "300"]${dieOnTerm ? "" : ", preexec_fn=lambda: signal.signal(signal.SIGTERM, signal.SIG_IGN)"})
print("ready %d" % sleeper.pid, flush=True)
while True:
    time.sleep(300)
`;
  const child = spawn("python3", ["-c", script], { detached: true, stdio: ["ignore", "pipe", "inherit"] });
  return { child, lines: createInterface({ input: child.stdout! })[Symbol.asyncIterator]() };
}

const next = async (lines: AsyncIterator<string>): Promise<string> => (await lines.next()).value as string;
/** Lets terminateGroup's continuation run after a mocked timer fired (setImmediate is not mocked). */
const turn = () => new Promise((r) => setImmediate(r));

/** Signals terminateGroup sends, recorded by wrapping process.kill (the real kill still happens). */
function recordKills(t: { mock: typeof mock }): Array<[number, NodeJS.Signals | number | undefined]> {
  const sent: Array<[number, NodeJS.Signals | number | undefined]> = [];
  const real = process.kill.bind(process);
  t.mock.method(process, "kill", (pid: number, signal?: NodeJS.Signals | number) => {
    sent.push([pid, signal]);
    return real(pid, signal);
  });
  return sent;
}

describe("terminateGroup", () => {
  it("SIGKILLs a group that survives SIGTERM only once the grace period has passed", async (t) => {
    const { child, lines } = group(false);
    const exited = once(child, "exit");
    const sleeper = Number((await next(lines)).split(" ")[1]);
    const sent = recordKills(t);
    t.mock.timers.enable({ apis: ["setTimeout", "Date"] });
    let done = false;
    const terminated = terminateGroup(child.pid!, 500).then(() => (done = true));
    assert.equal(await next(lines), "TERM", "SIGTERM first");
    for (let ms = 50; ms < 500; ms += 50) {
      t.mock.timers.tick(50);
      await turn();
      assert.ok(!sent.some(([, s]) => s === "SIGKILL"), `no SIGKILL ${ms} ms into a 500 ms grace`);
      assert.equal(done, false);
      assert.ok(processRunning(child.pid!) && processRunning(sleeper), "the group survived SIGTERM");
    }
    t.mock.timers.tick(50);
    await terminated;
    assert.deepEqual(sent.filter(([, s]) => s !== 0), [[-child.pid!, "SIGTERM"], [-child.pid!, "SIGKILL"]]);
    assert.deepEqual(await exited, [null, "SIGKILL"]);
    // SIGKILL reached the whole group, but the sleep's death can trail its parent's on a loaded machine.
    for (let i = 0; i < 100_000 && processRunning(sleeper); i++) await turn();
    assert.ok(!processRunning(sleeper));
  });

  it("a group that SIGTERM ends is left alone at the next poll, never SIGKILLed", async (t) => {
    const { child, lines } = group(true);
    const exited = once(child, "exit");
    const sleeper = Number((await next(lines)).split(" ")[1]);
    const sent = recordKills(t);
    t.mock.timers.enable({ apis: ["setTimeout", "Date"] });
    let done = false;
    const terminated = terminateGroup(child.pid!, 3_600_000).then(() => (done = true));
    assert.deepEqual(await exited, [null, "SIGTERM"]);
    // The sleep, reparented when its parent died, may end a moment later (a zombie counts as ended).
    for (let i = 0; i < 100_000 && processRunning(sleeper); i++) await turn();
    assert.ok(!processRunning(sleeper), "the whole group ended on SIGTERM");
    t.mock.timers.tick(50);
    await turn();
    assert.equal(done, true, "the first poll after the group ended returns");
    await terminated;
    assert.deepEqual(sent.filter(([, s]) => s !== 0), [[-child.pid!, "SIGTERM"]]);
  });
});
