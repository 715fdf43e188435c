import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { runBatches } from "../../server/rollout/run-batches.js";

/** A runOne whose items of one batch only finish once all of them have started: proves they run in parallel. */
function rendezvous(batchSizes: number[]) {
  const started: string[] = [];
  const waiting = new Map<number, Array<() => void>>();
  return {
    started,
    async run(item: string, batch: number, outcome: "ok" | "failed" | "interrupted" = "ok") {
      started.push(item);
      await new Promise<void>((resolve) => {
        const list = waiting.get(batch) ?? [];
        list.push(resolve);
        waiting.set(batch, list);
        if (list.length === batchSizes[batch]) for (const r of list) r();
      });
      return { item, batch, outcome };
    },
  };
}

type R = { item: string; batch: number; outcome: string };
const base = {
  skipped: (item: string, batch: number): R => ({ item, batch, outcome: "skipped" }),
  failed: (r: R) => r.outcome === "failed",
  interrupted: (r: R) => r.outcome === "interrupted",
};

// A sequential executor would deadlock on the rendezvous: the timeout turns that into a failure, not a hang.
describe("runBatches: the shared rolling executor", { timeout: 20_000 }, () => {
  it("runs batches in sequence and the items of a batch in parallel, a result per item in plan order", async () => {
    const rv = rendezvous([2, 2, 1]);
    const ends: number[] = [];
    const out = await runBatches([["a", "b"], ["c", "d"], ["e"]], { ...base, runOne: (i, b) => rv.run(i, b), onBatchEnd: (b) => ends.push(b) });
    assert.equal(out.status, "ok");
    assert.deepEqual(out.results.map((r) => r.item), ["a", "b", "c", "d", "e"]);
    assert.deepEqual(ends, [0, 1, 2]);
    // batch 1 started only after batch 0 ended
    assert.deepEqual(rv.started.slice(0, 2).sort(), ["a", "b"]);
  });

  it("stops after a failed batch: the rest of that batch finishes, later batches are skipped", async () => {
    const rv = rendezvous([2, 2, 1]);
    const out = await runBatches([["a", "b"], ["c", "d"], ["e"]], { ...base, runOne: (i, b) => rv.run(i, b, i === "c" ? "failed" : "ok") });
    assert.equal(out.status, "failed");
    assert.deepEqual(out.results.map((r) => `${r.item}:${r.outcome}`), ["a:ok", "b:ok", "c:failed", "d:ok", "e:skipped"]);
    assert.ok(!rv.started.includes("e"));
  });

  it("a gate after each batch can stop the rollout, with its reason", async () => {
    const rv = rendezvous([1, 1, 1]);
    const gated: number[] = [];
    const out = await runBatches([["a"], ["b"], ["c"]], {
      ...base,
      runOne: (i, b) => rv.run(i, b),
      gate: async (b) => {
        gated.push(b);
        return b === 1 ? "check tcp:5432 failed on b" : undefined;
      },
    });
    assert.equal(out.status, "failed");
    assert.deepEqual(out.gateFailure, { batchIndex: 1, reason: "check tcp:5432 failed on b" });
    assert.deepEqual(gated, [0, 1]);
    assert.deepEqual(out.results.map((r) => r.outcome), ["ok", "ok", "skipped"]);
  });

  it("an abort stops further batches; an interrupted result makes the run interrupted", async () => {
    const ac = new AbortController();
    const rv = rendezvous([1, 1]);
    const out = await runBatches([["a"], ["b"]], {
      ...base,
      signal: ac.signal,
      runOne: async (i, b) => {
        const r = await rv.run(i, b);
        ac.abort();
        return r;
      },
    });
    assert.equal(out.status, "interrupted");
    assert.deepEqual(out.results.map((r) => r.outcome), ["ok", "skipped"]);
    const rv2 = rendezvous([1, 1]);
    const out2 = await runBatches([["a"], ["b"]], { ...base, runOne: (i, b) => rv2.run(i, b, "interrupted") });
    assert.equal(out2.status, "interrupted");
    assert.deepEqual(out2.results.map((r) => r.outcome), ["interrupted", "skipped"]);
  });
});
