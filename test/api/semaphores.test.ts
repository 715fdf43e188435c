import { describe, it, mock } from "node:test";
import assert from "node:assert/strict";
import { SemaphoreBoard, SemaphoreConflict, SemaphoreTimeout, SemaphoreWaitAborted } from "../../server/api/semaphores.js";

const scope = { job: "api", event: "cli" };
const tick = () => new Promise((r) => setImmediate(r));

describe("SemaphoreBoard (in-process)", () => {
  it("grants first come, first served and fixes capacity at the first acquire", async () => {
    const board = new SemaphoreBoard();
    await board.acquire(scope, "m", "a", { capacity: 2 });
    await board.acquire(scope, "m", "b");
    const order: string[] = [];
    const c = board.acquire(scope, "m", "c").then(() => order.push("c"));
    const d = board.acquire(scope, "m", "d").then(() => order.push("d"));
    await tick();
    assert.deepEqual(board.status(scope, "m"), { name: "m", capacity: 2, holders: ["a", "b"], waiting: 2, available: 0 });
    await assert.rejects(board.acquire(scope, "m", "e", { capacity: 3 }), SemaphoreConflict);
    await assert.rejects(board.acquire(scope, "m", "c"), SemaphoreConflict, "a second wait by the same allocation");
    board.release(scope, "m", "b");
    board.release(scope, "m", "a");
    await Promise.all([c, d]);
    assert.deepEqual(order, ["c", "d"]);
    assert.throws(() => board.release(scope, "m", "a"), SemaphoreConflict);
    assert.throws(() => board.release(scope, "never", "a"), SemaphoreConflict);
  });

  it("times out, clamps the timeout, and a later waiter does not jump an earlier one", async () => {
    const board = new SemaphoreBoard();
    await board.acquire(scope, "t", "a");
    await assert.rejects(board.acquire(scope, "t", "b", { timeoutSeconds: 0.02 }), SemaphoreTimeout);
    assert.equal(board.status(scope, "t").waiting, 0);
    // 0 means the default wait (600 s), as in the original: the waiter is still queued, not timed out.
    const zero = board.acquire(scope, "t", "z", { timeoutSeconds: 0 }).catch((e: unknown) => e);
    await tick();
    assert.equal(board.status(scope, "t").waiting, 1);
    board.release(scope, "t", "a");
    assert.deepEqual(await zero, { capacity: 1 });
    assert.deepEqual(board.status(scope, "t").holders, ["z"]);
    board.release(scope, "t", "z");
    await board.acquire(scope, "t", "a");
    // A huge timeout is clamped (the timer is still created without overflow warnings).
    const long = board.acquire(scope, "t", "c", { timeoutSeconds: 1e9 });
    await tick();
    assert.equal(board.status(scope, "t").waiting, 1);
    board.release(scope, "t", "a");
    await long;
    assert.deepEqual(board.status(scope, "t").holders, ["c"]);
  });

  it("releaseAll frees held slots and cancels waits in every scope; aborting a wait leaves the queue", async () => {
    const board = new SemaphoreBoard();
    const other = { job: "api", event: "pre_deploy" };
    await board.acquire(scope, "x", "a");
    await board.acquire(other, "x", "a");
    const waitB = board.acquire(scope, "x", "b");
    await board.acquire(other, "y", "b");
    const waitA = board.acquire(other, "y", "a").catch((e: unknown) => e);
    await tick();
    board.releaseAll("a");
    await waitB;
    assert.ok((await waitA) instanceof SemaphoreWaitAborted);
    assert.deepEqual(board.status(scope, "x").holders, ["b"]);
    assert.deepEqual(board.status(other, "x").holders, []);
    const ac = new AbortController();
    const aborted = board.acquire(scope, "x", "c", { signal: ac.signal }).catch((e: unknown) => e);
    await tick();
    ac.abort();
    assert.ok((await aborted) instanceof SemaphoreWaitAborted);
    assert.equal(board.status(scope, "x").waiting, 0);
    board.close();
    await assert.rejects(board.acquire(scope, "z", "q"), SemaphoreWaitAborted);
  });

  it("timeout_seconds above 3600 waits exactly 3600 s; the default is 600 s", async () => {
    mock.timers.enable({ apis: ["setTimeout"] });
    try {
      const board = new SemaphoreBoard();
      await board.acquire(scope, "c", "a");
      let clamped: unknown;
      let byDefault: unknown;
      void board.acquire(scope, "c", "b", { timeoutSeconds: 7200 }).catch((e: unknown) => (clamped = e));
      await board.acquire(scope, "c2", "a");
      void board.acquire(scope, "c2", "b").catch((e: unknown) => (byDefault = e));
      await tick();
      mock.timers.tick(600_000 - 1);
      await tick();
      assert.equal(byDefault, undefined, "still waiting just before 600 s");
      mock.timers.tick(1);
      await tick();
      assert.ok((byDefault as unknown) instanceof SemaphoreTimeout, "default timeout is 600 s");
      mock.timers.tick(3_000_000 - 1);
      await tick();
      assert.equal(clamped, undefined, "still waiting just before 3600 s");
      mock.timers.tick(1);
      await tick();
      assert.ok((clamped as unknown) instanceof SemaphoreTimeout, "7200 s is clamped to 3600 s");
    } finally {
      mock.timers.reset();
    }
  });

  it("a client already gone is not granted a free slot it would never learn about", async () => {
    const board = new SemaphoreBoard();
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(board.acquire(scope, "free", "a", { signal: ac.signal }), SemaphoreWaitAborted);
    assert.deepEqual(board.status(scope, "free").holders, []);
    await board.acquire(scope, "free", "b");
    assert.deepEqual(board.status(scope, "free").holders, ["b"]);
  });
});
