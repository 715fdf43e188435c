import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { planCliHooks } from "../../server/hooks/cli-targets.js";
import { runHooksAllOrNothing } from "../../server/hooks/run.js";
import { hookBucket, recorderPy, workers, type HookBucket } from "./fixture.js";

/** Real runs: 5 workers, a Python hook that records its environment and start/end times. */
// Each hook marks that it started and waits (up to 5 s) for every peer of its batch to start:
// batch members meet only if they really run at the same time, however loaded the machine is.
const TIMED = recorderPy(`
import time
start = time.time()
root = os.environ["BUCKET_ROOT"]
mark = lambda ip: os.path.join(root, "started-" + ip)
open(mark(os.environ["ALLOCATION_IP"]), "w").close()
peers = os.environ["BATCH_ALLOCATIONS"].split(",")
deadline = time.time() + 5
while time.time() < deadline and not all(os.path.exists(mark(p)) for p in peers):
    time.sleep(0.01)
met = all(os.path.exists(mark(p)) for p in peers)
with open(os.path.join(root, "record.jsonl"), "a") as f:
    f.write(json.dumps({"end": time.time(), "start": start, "ip": os.environ["ALLOCATION_IP"], "met": met}) + "\\n")
`);

function workspace(width: number | undefined) {
  return {
    workers: workers(5),
    jobs: {
      api: {
        manifest: { version: "1.0.0", selectors: ["w"], ...(width === undefined ? {} : { max_concurrent_upgrades: width }), hooks: { hook_rec: { executed_on: ["cli"] } } },
        files: { "_hooks/hook_rec.py": TIMED },
      },
    },
  };
}

async function runCli(b: HookBucket): Promise<void> {
  for (const f of readdirSync(b.root)) if (f.startsWith("started-")) rmSync(join(b.root, f));
  await b.with((ctx) => runHooksAllOrNothing(ctx, planCliHooks(ctx, { hook: "hook_rec", job: "api" })));
}

const envRecords = (b: HookBucket) => b.records().filter((r) => r.ALLOCATION_IP !== undefined);
const timeRecords = (b: HookBucket) =>
  b.records().filter((r) => r.end !== undefined) as unknown as Array<{ start: number; end: number; ip: string; met: boolean }>;

describe("hook execution: batches over 5 workers (real Python hooks)", () => {
  let b: HookBucket;
  before(async () => {
    b = await hookBucket();
  });
  after(() => b.cleanup());

  const cases: Array<[string, number | undefined, string[][]]> = [
    ["width 1", 1, [["10.0.0.1"], ["10.0.0.2"], ["10.0.0.3"], ["10.0.0.4"], ["10.0.0.5"]]],
    ["width 2", 2, [["10.0.0.1", "10.0.0.2"], ["10.0.0.3", "10.0.0.4"], ["10.0.0.5"]]],
    ["width 0 (= 1)", 0, [["10.0.0.1"], ["10.0.0.2"], ["10.0.0.3"], ["10.0.0.4"], ["10.0.0.5"]]],
    ["width unset (default 1)", undefined, [["10.0.0.1"], ["10.0.0.2"], ["10.0.0.3"], ["10.0.0.4"], ["10.0.0.5"]]],
  ];
  for (const [name, width, expected] of cases) {
    it(`${name}: every invocation sees its batch, batches run one after another`, async () => {
      await b.build(workspace(width));
      b.clearRecords();
      await runCli(b);
      const seen = envRecords(b);
      assert.equal(seen.length, 5);
      for (const r of seen) {
        const index = expected.findIndex((batch) => batch.includes(r.ALLOCATION_IP!));
        assert.equal(r.BATCH_INDEX, String(index), `BATCH_INDEX of ${r.ALLOCATION_IP}`);
        assert.equal(r.BATCH_COUNT, String(expected.length));
        assert.equal(r.BATCH_ALLOCATIONS, expected[index]!.join(","));
        assert.equal(r.ROLLOUT_ORDER, "10.0.0.1,10.0.0.2,10.0.0.3,10.0.0.4,10.0.0.5");
        assert.equal(r.DEPLOY_PHASE, "cli");
        assert.equal(r.cwd, `${b.root}/tmp/workers/${r.ALLOCATION_IP}/jobs/api`);
      }
      // The next batch starts only after the whole previous batch ended; a batch runs in parallel.
      const times = timeRecords(b);
      const batchOf = (ip: string) => expected.findIndex((batch) => batch.includes(ip));
      for (let i = 1; i < expected.length; i++) {
        const prevEnd = Math.max(...times.filter((t) => batchOf(t.ip) === i - 1).map((t) => t.end));
        const nextStart = Math.min(...times.filter((t) => batchOf(t.ip) === i).map((t) => t.start));
        assert.ok(prevEnd <= nextStart, `batch ${i} started before batch ${i - 1} ended`);
      }
      assert.equal(times.length, 5);
      for (const t of times) assert.equal(t.met, true, `${t.ip} did not meet the rest of its batch: batch members must run in parallel`);
    });
  }

  it("custom rollout order from KV: ONE_SHOT exactly once, on the first allocation of the first batch", async () => {
    await b.build(workspace(2));
    await b.with((ctx) => ctx.kv.put("maand/job/api", "rollout_order", "10.0.0.4,10.0.0.3,10.0.0.5,10.0.0.2,10.0.0.1"));
    b.clearRecords();
    await runCli(b);
    const seen = envRecords(b);
    assert.equal(seen.length, 5);
    assert.deepEqual(seen.filter((r) => r.ONE_SHOT === "1").map((r) => r.ALLOCATION_IP), ["10.0.0.4"]);
    assert.equal(seen.filter((r) => r.ONE_SHOT === "0").length, 4);
    const zero = seen.find((r) => r.ALLOCATION_INDEX === "0")!;
    assert.equal(zero.ALLOCATION_IP, "10.0.0.1");
    assert.equal(zero.BATCH_INDEX, "2");
    assert.ok(seen.every((r) => r.ROLLOUT_ORDER_SOURCE === "kv" && r.ROLLOUT_ORDER === "10.0.0.4,10.0.0.3,10.0.0.5,10.0.0.2,10.0.0.1"));
    assert.equal(seen.find((r) => r.ALLOCATION_IP === "10.0.0.4")!.BATCH_ALLOCATIONS, "10.0.0.4,10.0.0.3");
  });

  it("a stale KV rollout order (worker set changed) falls back to catalog order", async () => {
    await b.build(workspace(5));
    await b.with((ctx) => ctx.kv.put("maand/job/api", "rollout_order", "10.0.0.2,10.0.0.1"));
    b.clearRecords();
    await runCli(b);
    const seen = envRecords(b);
    assert.ok(seen.every((r) => r.ROLLOUT_ORDER_SOURCE === "default" && r.ROLLOUT_ORDER === "10.0.0.1,10.0.0.2,10.0.0.3,10.0.0.4,10.0.0.5"));
    assert.deepEqual(seen.filter((r) => r.ONE_SHOT === "1").map((r) => r.ALLOCATION_IP), ["10.0.0.1"]);
  });
});
