import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { hookBucket, maand, MAAND_BIN, recorderPy, workers, type HookBucket } from "./fixture.js";
import { NS, ROLLOUT_ORDER_KEY } from "../../server/kv/namespaces.js";

const NOTICE = "api hook_x: rollout_order in KV ignored (lists 2 of 3 workers, missing 10.0.0.3); using catalog order";
const hasScript = spawnSync("script", ["--version"]).status === 0;

describe("maand hooks: a partial put_rollout_order is reported, not silently ignored (CLI, real processes)", () => {
  let b: HookBucket;
  before(async () => {
    b = await hookBucket();
    await b.build({
      workers: workers(3),
      jobs: {
        api: {
          manifest: {
            version: "1.0.0",
            selectors: ["w"],
            hooks: { hook_x: { executed_on: ["cli"] }, hook_order: { executed_on: ["cli"] } },
          },
          files: {
            "_hooks/hook_x.py": recorderPy(),
            // The runtime API accepts any of the job's workers without repeats: here 2 of 3.
            "_hooks/hook_order.py": 'from maand import is_one_shot, put_rollout_order\nif is_one_shot():\n    put_rollout_order(["10.0.0.2", "10.0.0.1"]).raise_for_status()\n',
          },
        },
      },
    });
  });
  after(() => b.cleanup());

  it("build's own order raises no notice; after a partial put_rollout_order, --dry-run and a real run say why it was ignored", () => {
    const clean = maand(b.root, "hooks", "hook_x", "api", "--dry-run");
    assert.equal(clean.status, 0, clean.stderr);
    assert.match(clean.stdout, /rollout order \(kv\): 10\.0\.0\.1,10\.0\.0\.2,10\.0\.0\.3/);
    assert.doesNotMatch(clean.stdout, /ignored/);

    const put = maand(b.root, "hooks", "hook_order", "api");
    assert.equal(put.status, 0, put.stderr);
    assert.doesNotMatch(put.stdout, /ignored/, "the order was build's when this run was planned");

    const text = maand(b.root, "hooks", "hook_x", "api", "--dry-run");
    assert.equal(text.status, 0, text.stderr);
    assert.match(
      text.stdout,
      /^ {2}rollout order \(default\): 10\.0\.0\.1,10\.0\.0\.2,10\.0\.0\.3\n {2}rollout_order in KV ignored \(lists 2 of 3 workers, missing 10\.0\.0\.3\); using catalog order; stored: 10\.0\.0\.2,10\.0\.0\.1$/m,
    );

    const json = maand(b.root, "hooks", "hook_x", "api", "--dry-run", "--json");
    assert.equal(json.status, 0, json.stderr);
    const step = JSON.parse(json.stdout).steps[0];
    assert.equal(step.rollout_order_source, "default");
    assert.deepEqual(step.rollout_order_ignored, { stored: ["10.0.0.2", "10.0.0.1"], reason: "lists 2 of 3 workers, missing 10.0.0.3" });

    b.clearRecords();
    const run = maand(b.root, "hooks", "hook_x", "api");
    assert.equal(run.status, 0, run.stderr);
    const lines = run.stdout.split("\n");
    assert.equal(lines.filter((l) => l === NOTICE).length, 1, run.stdout);
    assert.ok(lines.indexOf(NOTICE) < lines.findIndex((l) => l.startsWith("run ")), "printed before the run starts");
    assert.deepEqual(b.records().map((r) => `${r.ALLOCATION_IP} ${r.ROLLOUT_ORDER_SOURCE}`), ["10.0.0.1 default", "10.0.0.2 default", "10.0.0.3 default"]);
    // Console only: hook logs hold what hooks print.
    const runId = /^run (\S+):/m.exec(run.stdout)![1]!;
    const runDir = join(b.root, "logs", "runs", runId);
    for (const f of readdirSync(runDir)) assert.doesNotMatch(readFileSync(join(runDir, f), "utf8"), /ignored/);

    // --json: stdout is the summary alone, the notice goes with the progress to stderr.
    const quiet = maand(b.root, "hooks", "hook_x", "api", "--json");
    assert.equal(quiet.status, 0, quiet.stderr);
    assert.equal(JSON.parse(quiet.stdout).status, "ok");
    assert.ok(quiet.stderr.split("\n").includes(NOTICE), quiet.stderr);
  });

  it("on a TTY the notice precedes the live listr2 progress", { skip: hasScript ? false : "no script(1) to provide a pseudo-terminal" }, () => {
    // script(1) gives maand a pseudo-terminal on stdout, so the listr2 renderer is used.
    const cmd = [process.execPath, MAAND_BIN, "--bucket", b.root, "hooks", "hook_x", "api"].map((a) => `'${a}'`).join(" ");
    // A fresh pseudo-terminal is 0 columns wide, and listr2 would wrap every character.
    const r = spawnSync("script", ["-qec", `stty cols 200 rows 50; ${cmd}`, "/dev/null"], { encoding: "utf8", timeout: 60_000 });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const at = r.stdout.indexOf(NOTICE);
    assert.ok(at >= 0, r.stdout);
    const progress = r.stdout.indexOf("api hook_x batch 1/3");
    assert.ok(progress > at, `listr2 drew its progress after the notice: ${JSON.stringify(r.stdout)}`);
    assert.match(r.stdout, /\u001b\[\?25l/, "the live renderer (hidden cursor) was used, not plain lines");
    // the run id heads the live view; finished batches stay on screen; the table lists each allocation once
    assert.match(r.stdout, /run \d{8}T\d{6}Z-[0-9a-f]{6}: cli, 3 invocation\(s\), \d+ s/);
    assert.match(r.stdout, /✔\S* api hook_x batch 1\/3 \(10\.0\.0\.1\): running 0, done 1, failed 0[^]*✔\S* api hook_x batch 3\/3/);
    assert.match(r.stdout, /ALLOCATION\s+JOB\s+HOOK/);
    assert.equal(r.stdout.match(/^10\.0\.0\.2 +api +hook_x +2\/3 +ok/gm)?.length, 1);
  });

  it("a disabled worker makes build's order (active workers) unusable for cli, without a notice: nobody chose it", async () => {
    await b.build({
      workers: workers(3),
      disabled: { workers: ["10.0.0.2"] },
      jobs: { api: { manifest: { version: "1.0.0", selectors: ["w"], hooks: { hook_x: { executed_on: ["cli"] } } }, files: { "_hooks/hook_x.py": recorderPy() } } },
    });
    const stored = await b.with((ctx) => ctx.kv.get(NS.job("api"), ROLLOUT_ORDER_KEY));
    assert.equal(stored, "10.0.0.1,10.0.0.3", "build reset the order to the active workers");
    const r = maand(b.root, "hooks", "hook_x", "api", "--dry-run");
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /rollout order \(default\): 10\.0\.0\.1,10\.0\.0\.2,10\.0\.0\.3/);
    assert.doesNotMatch(r.stdout, /ignored/);
  });
});
