import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { shellJoin, shellQuote, wrapCommand, wrapRaw } from "../../server/workers/shell.js";
import { Limiter, mapLimited } from "../../server/workers/limiter.js";

describe("remote command lines", () => {
  it("quotes any string into exactly one sh argument", () => {
    const nasty = ["plain", "", "a b", "it's", "$HOME", "`id`", "a\nb", "\\", '"q"', "-n", "*"];
    const out = execFileSync("sh", ["-c", `for a in ${nasty.map(shellQuote).join(" ")}; do printf '[%s]' "$a"; done`], { encoding: "utf8" });
    assert.equal(out, nasty.map((a) => `[${a}]`).join(""));
    assert.equal(shellJoin(["python3", "-c", "print('x')"]), `python3 -c 'print('\\''x'\\'')'`);
  });

  it("runs the command under timeout (sudo first when asked), with env and the marker as $0", () => {
    const line = wrapCommand("echo \"$0 $X\"", { useSudo: false, timeoutSec: 2.5, killAfterSec: 10, marker: "maand-exec-1", env: { X: "a b" } });
    assert.equal(line, `exec timeout -k 10 2.5 env 'X=a b' sh -c 'echo "$0 $X"' maand-exec-1`);
    assert.equal(execFileSync("sh", ["-c", line], { encoding: "utf8" }), "maand-exec-1 a b\n");
    assert.match(wrapCommand("true", { useSudo: true, timeoutSec: 0, killAfterSec: 5, marker: "m" }), /^exec sudo -n timeout -k 5 0 /);
    assert.equal(wrapRaw("a && b", true), "sudo -n sh -c 'a && b'");
    assert.throws(() => wrapCommand("true", { useSudo: false, timeoutSec: 1, killAfterSec: 1, marker: "m", env: { "BAD-NAME": "x" } }));
  });

  it("a limiter serves waiters in order and never exceeds its limit; an aborted waiter leaves the queue", async () => {
    const l = new Limiter(2);
    const order: number[] = [];
    let running = 0;
    let peak = 0;
    await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        l.run(async () => {
          running++;
          peak = Math.max(peak, running);
          order.push(i);
          await new Promise((r) => setImmediate(r));
          running--;
        }),
      ),
    );
    assert.equal(peak, 2);
    assert.deepEqual(order, [0, 1, 2, 3, 4, 5]);
    await l.acquire();
    await l.acquire();
    const ac = new AbortController();
    const waiting = l.acquire(ac.signal);
    ac.abort(new Error("stop"));
    await assert.rejects(waiting, /stop/);
    l.release();
    assert.equal(l.running, 1);
    assert.deepEqual(await mapLimited([3, 1, 2], 2, async (x) => x * 2), [6, 2, 4]);
  });
});
