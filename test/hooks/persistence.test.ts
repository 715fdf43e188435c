import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { planCliHooks } from "../../server/hooks/cli-targets.js";
import { HookRunFailed } from "../../server/hooks/errors.js";
import { runHooksAllOrNothing } from "../../server/hooks/run.js";
import type { HookRunResult } from "../../server/hooks/result.js";
import { hookBucket, recorderPy, workers, type HookBucket } from "./fixture.js";

/**
 * One job, 5 workers, several cli hooks exercising the KV session through the real runtime API:
 * - hook_write: every allocation writes vars/job/api w_<ip>; $BUCKET_ROOT/fail.<ip> makes it exit 7
 * - hook_chain: records which earlier allocations' writes it can read, then writes its own
 * - hook_order: the one-shot invocation reverses the rollout order with a rollout_order PUT
 * - hook_fail: 10.0.0.1 and 10.0.0.2 fail with different exit codes after printing 25 lines
 */
const WRITE = recorderPy(`from maand import put_job_variable
ip = os.environ["ALLOCATION_IP"]
put_job_variable("w_" + ip, "v").raise_for_status()
if os.path.exists(os.path.join(os.environ["BUCKET_ROOT"], "fail." + ip)):
    print("failing on purpose")
    sys.exit(7)
`);
const CHAIN = `import os
from maand import allocation_ip, get_kv_value, put_job_variable
seen = [w for w in os.environ["ROLLOUT_ORDER"].split(",") if get_kv_value("vars/job/api", "c_" + w, default=None) is not None]
put_job_variable("c_" + allocation_ip(), "1").raise_for_status()
put_job_variable("saw_" + allocation_ip(), ",".join(seen)).raise_for_status()
`;
const ORDER = recorderPy(`from maand import is_one_shot, put_rollout_order
if is_one_shot():
    put_rollout_order(list(reversed(os.environ["ROLLOUT_ORDER"].split(",")))).raise_for_status()
`);
const FAIL = recorderPy(`
ip = os.environ["ALLOCATION_IP"]
codes = {"10.0.0.1": 4, "10.0.0.2": 3}
if ip in codes:
    for i in range(1, 26):
        print("%s line %d" % (ip, i))
    sys.exit(codes[ip])
`);

describe("hook sessions: KV persistence, ordering and failures (real Python hooks, real API)", () => {
  let b: HookBucket;
  before(async () => {
    b = await hookBucket();
    const hook = { executed_on: ["cli"] };
    await b.build({
      workers: workers(5),
      jobs: {
        api: {
          manifest: {
            version: "1.0.0",
            selectors: ["w"],
            max_concurrent_upgrades: 2,
            hooks: { hook_write: hook, hook_chain: hook, hook_order: hook, hook_fail: hook },
          },
          files: { "_hooks/hook_write.py": WRITE, "_hooks/hook_chain.py": CHAIN, "_hooks/hook_order.py": ORDER, "_hooks/hook_fail.py": FAIL },
        },
      },
    });
  });
  after(() => b.cleanup());

  const run = (hook: string): Promise<HookRunResult> =>
    b.with((ctx) => runHooksAllOrNothing(ctx, planCliHooks(ctx, { hook, job: "api" })));
  const stored = (key: string) => b.with((ctx) => ctx.kv.get("vars/job/api", key));
  const kvRows = () => b.with((ctx) => (ctx.db.prepare("SELECT COUNT(*) AS n FROM kv").get() as { n: number }).n);

  it("all-or-nothing: one failed allocation persists nothing; a clean run persists everything", async () => {
    const failFile = join(b.root, "fail.10.0.0.5");
    writeFileSync(failFile, "");
    const rowsBefore = await kvRows();
    await assert.rejects(run("hook_write"), (e: Error) => e instanceof HookRunFailed && /10\.0\.0\.5 .*exit code 7/.test(e.message));
    assert.equal(await kvRows(), rowsBefore, "no KV row written by a failed run");
    for (const n of [1, 2, 3, 4, 5]) assert.equal(await stored(`w_10.0.0.${n}`), undefined);

    rmSync(failFile);
    const ok = await run("hook_write");
    assert.equal(ok.status, "ok");
    for (const n of [1, 2, 3, 4, 5]) assert.equal(await stored(`w_10.0.0.${n}`), "v");
  });

  it("KV written by one hook is read by later hooks of the same session", async () => {
    await run("hook_chain");
    // width 2: batches (1,2) (3,4) (5); each hook sees at least every earlier batch's write
    const saw = async (n: number) => new Set((await stored(`saw_10.0.0.${n}`))!.split(",").filter(Boolean));
    for (const [n, earlier] of [[3, [1, 2]], [4, [1, 2]], [5, [1, 2, 3, 4]]] as const) {
      const s = await saw(n);
      for (const e of earlier) assert.ok(s.has(`10.0.0.${e}`), `10.0.0.${n} did not see 10.0.0.${e}'s write`);
    }
    assert.ok(![...(await saw(1))].some((ip) => ["10.0.0.3", "10.0.0.4", "10.0.0.5"].includes(ip)));
  });

  it("put_rollout_order in a cli hook takes effect on the next run", async () => {
    b.clearRecords();
    await run("hook_order");
    const first = b.records();
    // build resets rollout_order to the active workers in catalog order
    assert.ok(first.every((r) => r.ROLLOUT_ORDER === "10.0.0.1,10.0.0.2,10.0.0.3,10.0.0.4,10.0.0.5"));
    assert.equal(await b.with((ctx) => ctx.kv.get("maand/job/api", "rollout_order")), "10.0.0.5,10.0.0.4,10.0.0.3,10.0.0.2,10.0.0.1");
    b.clearRecords();
    await run("hook_order");
    const second = b.records();
    assert.ok(second.every((r) => r.ROLLOUT_ORDER === "10.0.0.5,10.0.0.4,10.0.0.3,10.0.0.2,10.0.0.1" && r.ROLLOUT_ORDER_SOURCE === "kv"));
    assert.equal(second.find((r) => r.ONE_SHOT === "1")!.ALLOCATION_IP, "10.0.0.5");
    assert.equal(second.find((r) => r.ALLOCATION_IP === "10.0.0.5")!.BATCH_ALLOCATIONS, "10.0.0.5,10.0.0.4");
    // restore catalog order for the other tests
    await b.with((ctx) => ctx.kv.put("maand/job/api", "rollout_order", "10.0.0.1,10.0.0.2,10.0.0.3,10.0.0.4,10.0.0.5"));
  });

  it("a failed batch stops later batches and the error names every failed allocation with its last 20 lines", async () => {
    b.clearRecords();
    const err = await run("hook_fail").then(
      () => assert.fail("expected the run to fail"),
      (e: unknown) => e as HookRunFailed,
    );
    assert.ok(err instanceof HookRunFailed);
    assert.equal(err.exitCode, 3);
    assert.deepEqual(b.records().map((r) => r.ALLOCATION_IP).sort(), ["10.0.0.1", "10.0.0.2"], "batches 2 and 3 never started");
    assert.match(err.message, /10\.0\.0\.1 \(job api, hook_fail, cli, batch 1\/3\): exit code 4/);
    assert.match(err.message, /10\.0\.0\.2 \(job api, hook_fail, cli, batch 1\/3\): exit code 3/);
    for (const ip of ["10.0.0.1", "10.0.0.2"]) {
      assert.match(err.message, new RegExp(`\\| ${ip} line 25\\n`));
      assert.match(err.message, new RegExp(`\\| ${ip} line 6\\n`));
      assert.doesNotMatch(err.message, new RegExp(`\\| ${ip} line 5\\n`));
    }
    assert.match(err.message, /3 invocations not started/);
    const byIp = Object.fromEntries(err.result.invocations.map((i) => [i.workerIp, i]));
    assert.equal(byIp["10.0.0.1"]!.exitCode, 4);
    assert.equal(byIp["10.0.0.1"]!.tail.length, 20);
    assert.deepEqual(["10.0.0.3", "10.0.0.4", "10.0.0.5"].map((ip) => byIp[ip]!.status), ["skipped", "skipped", "skipped"]);
    assert.ok(existsSync(err.result.logsDir));
  });
});
