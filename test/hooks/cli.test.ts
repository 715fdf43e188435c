import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { collect, hookBucket, maand, maandAsync, recorderPy, workers, type HookBucket } from "./fixture.js";

const SECRET = "s3cr3t-generated-value";

const SEMAPHORE = `import os, sys, time
from maand import acquire_semaphore, release_semaphore, semaphore_status, is_one_shot
marker = os.path.join(os.environ["BUCKET_ROOT"], "holder-acquired")
if is_one_shot():
    acquire_semaphore("m", capacity=1, timeout_seconds=30).raise_for_status()
    open(marker, "w").close()
    # crash while holding the only slot, once both peers are queued behind it
    for _ in range(1500):
        if semaphore_status("m").json()["waiting"] == 2:
            os._exit(9)
        time.sleep(0.02)
    sys.exit(8)  # the peers never queued: the test's premise failed
while not os.path.exists(marker):
    time.sleep(0.02)
acquire_semaphore("m", capacity=1, timeout_seconds=20).raise_for_status()
try:
    print("got the slot")
finally:
    release_semaphore("m").raise_for_status()
`;

describe("maand hooks (CLI, real processes)", () => {
  let b: HookBucket;
  before(async () => {
    b = await hookBucket();
    const hello = recorderPy('print("hello from " + os.environ["ALLOCATION_IP"])');
    await b.build({
      workers: workers(3),
      jobs: {
        api: {
          manifest: {
            version: "1.0.0",
            selectors: ["w"],
            max_concurrent_upgrades: 3,
            hooks: {
              hook_x: { executed_on: ["cli"] },
              hook_pd: { executed_on: ["pre_deploy"] },
              hook_secret: { executed_on: ["cli"] },
              hook_sem: { executed_on: ["cli"] },
            },
          },
          files: {
            "_hooks/hook_x.py": hello,
            "_hooks/hook_pd.py": hello,
            "_hooks/hook_secret.py": `import os\nfrom maand import put_job_secret\nput_job_secret("pw", "${SECRET}").raise_for_status()\nprint("generated ${SECRET}")\nprint("token " + os.environ["HOOK_API_TOKEN"])\n`,
            "_hooks/hook_sem.py": SEMAPHORE,
          },
        },
        web: { manifest: { version: "1.0.0", selectors: ["w"], hooks: { hook_x: { executed_on: ["cli"] } } }, files: { "_hooks/hook_x.ts": 'console.log("hello from bun " + process.env.ALLOCATION_IP);\n' } },
        other: { manifest: { version: "1.0.0", selectors: ["w"], hooks: { hook_x: { executed_on: ["pre_deploy"] } } }, files: { "_hooks/hook_x.py": hello } },
      },
    });
  });
  after(() => b.cleanup());

  const kvRows = () => b.with((ctx) => (ctx.db.prepare("SELECT COUNT(*) AS n FROM kv").get() as { n: number }).n);
  const runDirs = () => (existsSync(join(b.root, "logs", "runs")) ? readdirSync(join(b.root, "logs", "runs")) : []);

  it("rejects unknown hooks and jobs, hooks not registered for cli and bad --allocations, changing nothing", async () => {
    const rows = await kvRows();
    const runs = runDirs().length;
    const cases: Array<[string[], number, RegExp]> = [
      [["hooks", "hook_nope"], 1, /unknown hook hook_nope \(hooks registered for cli: hook_secret, hook_sem, hook_x\)/],
      [["hooks", "hook_x", "nojob"], 1, /unknown job nojob/],
      [["hooks", "hook_nope", "api"], 1, /job api has no hook hook_nope \(its hooks: hook_pd, hook_secret, hook_sem, hook_x\)/],
      [["hooks", "hook_pd", "api"], 1, /hook hook_pd of job api is not registered for cli \(executed_on: pre_deploy\)/],
      [["hooks", "hook_pd"], 1, /hook hook_pd is not registered for cli by any job \(executed_on: pre_deploy\)/],
      [["hooks", "hook_x", "other"], 1, /hook hook_x of job other is not registered for cli/],
      [["hooks", "hook_x", "api", "--allocations", "10.0.0.9"], 1, /--allocations 10\.0\.0\.9: not an allocation of job api/],
      [["hooks", "hook_x", "api", "--allocations", "10.0.0.1,bad host!"], 2, /--allocations "10\.0\.0\.1,bad host!": expected comma-separated worker addresses/],
      [["hooks", "hook_x", "api", "--allocations", ""], 2, /--allocations "": expected/],
      [["hooks", ""], 2, /<hook> is empty: expected a hook name/],
      [["hooks", "hook_x", " "], 2, /\[job\] is empty: expected a job name/],
    ];
    for (const [args, status, message] of cases) {
      const r = maand(b.root, ...args);
      assert.equal(r.status, status, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, message, args.join(" "));
      assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
    }
    assert.equal(await kvRows(), rows);
    assert.equal(runDirs().length, runs, "no run was started");
  });

  it("--dry-run prints the plan (text or JSON) and runs nothing", () => {
    b.clearRecords();
    const j = maand(b.root, "hooks", "hook_x", "api", "--dry-run", "--json", "--allocations", "10.0.0.3,10.0.0.1");
    assert.equal(j.status, 0, j.stderr);
    const plan = JSON.parse(j.stdout);
    assert.equal(plan.event, "cli");
    assert.deepEqual(plan.steps[0].batches.map((x: { workers: string[] }) => x.workers), [["10.0.0.1", "10.0.0.3"]]);
    assert.equal(plan.steps[0].batches[0].invocations[0].env.ONE_SHOT, "1");
    assert.equal(plan.steps[0].batches[0].invocations[1].env.ALLOCATION_INDEX, "2");
    // snake_case, 0-based indexes named as such, the interpreter that will run
    assert.equal(plan.steps[0].batches[0].batch_index, 0);
    assert.equal(plan.steps[0].batches[0].invocations[1].allocation_index, 2);
    assert.match(plan.steps[0].interpreter, /python3/);
    assert.equal(plan.steps[0].rollout_order_source, "kv");
    const t = maand(b.root, "hooks", "hook_x", "--dry-run");
    assert.equal(t.status, 0, t.stderr);
    assert.match(t.stdout, /job api {2}hook hook_x/);
    assert.match(t.stdout, /job web {2}hook hook_x  script _hooks\/hook_x\.ts/);
    // a compact table by default: allocation, batch, interpreter, one-shot, timeout
    assert.match(t.stdout, /ALLOCATION\s+BATCH\s+INTERPRETER\s+ONE-SHOT\s+TIMEOUT/);
    assert.match(t.stdout, /10\.0\.0\.1\s+1\/1\s+\S*python3\S*\s+yes\s+3600 s/);
    assert.doesNotMatch(t.stdout, /ROLLOUT_ORDER_SOURCE=/);
    assert.match(t.stdout, /add --env/);
    const e = maand(b.root, "hooks", "hook_x", "--dry-run", "--env");
    assert.match(e.stdout, /ROLLOUT_ORDER_SOURCE=kv/);
    assert.match(e.stdout, /HOOK_API_PORT, JOB_COMMAND_API_PORT, HOOK_API_TOKEN are set when each hook starts/);
    assert.equal(b.records().length, 0);
  });

  it("without a job runs on every job registering the hook for cli; --json prints the summary; logs per worker and run", () => {
    b.clearRecords();
    const r = maand(b.root, "hooks", "hook_x", "--json");
    assert.equal(r.status, 0, r.stderr);
    const summary = JSON.parse(r.stdout);
    assert.equal(summary.status, "ok");
    assert.deepEqual(
      summary.invocations.map((i: { job: string; worker_ip: string; status: string }) => `${i.job} ${i.worker_ip} ${i.status}`),
      ["api 10.0.0.1 ok", "api 10.0.0.2 ok", "api 10.0.0.3 ok", "web 10.0.0.1 ok", "web 10.0.0.2 ok", "web 10.0.0.3 ok"],
    );
    assert.deepEqual(b.records().map((x) => x.JOB).sort(), ["api", "api", "api"], "job 'other' (pre_deploy only) did not run");
    const run = summary.run_id as string;
    const runLog = readFileSync(join(b.root, "logs", "runs", run, "api.hook_x.10.0.0.2.log"), "utf8");
    assert.match(runLog, new RegExp(`^\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z run=${run} job=api hook=hook_x event=cli worker=10\\.0\\.0\\.2 stream=stdout hello from 10\\.0\\.0\\.2$`, "m"));
    const workerLog = readFileSync(join(b.root, "logs", "10.0.0.3.log"), "utf8");
    assert.match(workerLog, new RegExp(`run=${run} job=web hook=hook_x event=cli worker=10\\.0\\.0\\.3 stream=stdout hello from bun 10\\.0\\.0\\.3`));
  });

  it("--verbose streams output prefixed with [ip job hook]; a pipe gets one line per allocation and a summary of totals", () => {
    const r = maand(b.root, "hooks", "hook_x", "web", "--verbose");
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^\[10\.0\.0\.2 web hook_x\] hello from bun 10\.0\.0\.2$/m);
    assert.match(r.stdout, /web hook_x: batch 3\/3 \(10\.0\.0\.3\)/);
    // each allocation's final status once: its line as it ended, not again in a table
    assert.equal(r.stdout.match(/^ {2}ok {10}10\.0\.0\.3 web hook_x \(\d+\.\d\d s\)$/gm)?.length, 1, r.stdout);
    assert.doesNotMatch(r.stdout, /ALLOCATION\s+JOB\s+HOOK\s+BATCH\s+STATUS\s+DURATION/);
    assert.match(r.stdout, /^run \S+: ok \(3 ok\); no KV writes; logs in /m);
  });

  it("--concurrency N overrides the batch width for one run", () => {
    const plan = JSON.parse(maand(b.root, "hooks", "hook_x", "web", "--dry-run", "--json", "--concurrency", "2").stdout);
    assert.deepEqual(plan.steps[0].batches.map((x: { workers: string[] }) => x.workers), [["10.0.0.1", "10.0.0.2"], ["10.0.0.3"]]);
    assert.equal(plan.steps[0].width_source, "concurrency");
    for (const bad of ["0", "-1", "1.5", "x", ""]) {
      const r = maand(b.root, "hooks", "hook_x", "web", "--concurrency", bad);
      assert.equal(r.status, 2, bad);
      assert.match(r.stderr, /--concurrency .*expected a whole number >= 1/);
    }
  });

  it("secret values and API tokens never reach logs or the console", () => {
    const r = maand(b.root, "hooks", "hook_secret", "api", "--verbose", "--allocations", "10.0.0.1");
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^run \S+: ok \(1 ok\); 1 KV write committed; logs in /m, "the summary says what happened to KV writes");
    assert.match(r.stdout, /\[10\.0\.0\.1 api hook_secret\] generated \*\*\*/);
    assert.match(r.stdout, /\[10\.0\.0\.1 api hook_secret\] token \*\*\*/);
    const logs = [join(b.root, "logs", "10.0.0.1.log"), ...runDirs().map((d) => join(b.root, "logs", "runs", d))];
    const text = logs
      .flatMap((p) => (p.endsWith(".log") ? [p] : readdirSync(p).map((f) => join(p, f))))
      .map((f) => readFileSync(f, "utf8"))
      .join("\n");
    assert.ok(!text.includes(SECRET) && !r.stdout.includes(SECRET) && !r.stderr.includes(SECRET));
    assert.match(text, /stream=stdout generated \*\*\*/);
  });

  it("a closed stdout (maand hooks ... | head) does not kill maand mid-run: the run completes", async () => {
    b.clearRecords();
    const child = maandAsync(b.root, "hooks", "hook_x", "api");
    child.stdout!.destroy(); // the reader is gone before maand writes its first line
    const r = await collect(child);
    assert.equal(r.status, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /EPIPE|\n\s+at /);
    assert.deepEqual(b.records().map((x) => x.ALLOCATION_IP).sort(), ["10.0.0.1", "10.0.0.2", "10.0.0.3"], "every hook ran");
  });

  it("a hook that crashes holding a semaphore does not block its peers", () => {
    const r = maand(b.root, "hooks", "hook_sem", "api", "--json");
    assert.equal(r.status, 3, r.stderr);
    const summary = JSON.parse(r.stdout);
    assert.deepEqual(summary.kv, { writes: 0, allocations: 0, committed: false, reason: "the run failed" });
    const byStatus = summary.invocations.map((i: { status: string; exit_code: number }) => `${i.status}:${i.exit_code}`).sort();
    // The holder crashed (9) with both peers queued; each peer then got the slot (0) instead of
    // timing out (a 408 fails its raise_for_status): the crash itself freed it.
    assert.deepEqual(byStatus, ["failed:9", "ok:0", "ok:0"]);
    assert.match(r.stderr, /10\.0\.0\.1 \(job api, hook_sem, cli, batch 1\/1\): exit code 9/);
  });
});
