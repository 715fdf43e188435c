import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { MAAND_BIN } from "../helpers/cli.js";
import { hookBucket, recorderPy, workers, type HookBucket } from "../hooks/fixture.js";
import { testWorkersUnavailable } from "../workers/workers.js";
import { deployBucket, recordingJob, type DeployBucket } from "../deploy/fixture.js";

/**
 * The live views only a terminal gets (listr2 for hooks, the redrawn block for deploy), under a
 * real pseudo-terminal: util-linux `script` gives maand a TTY on stdout, so the same code path an
 * operator sees runs here, and what it drew is read back with the escape sequences removed.
 */
const SCRIPT = "/usr/bin/script";
const noScript = existsSync(SCRIPT) ? undefined : "util-linux script is not installed";

function inTerminal(root: string, ...args: string[]): { status: number | null; screen: string } {
  const command = [process.execPath, MAAND_BIN, "--bucket", root, ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(" ");
  // -e: script exits with the command's status; -q: no "Script started" banner; the typescript
  // goes nowhere. The pty starts 0 columns wide (no terminal above us): give it a real size.
  const r = spawnSync(SCRIPT, ["-qec", `stty cols 160 rows 50 && exec ${command}`, "/dev/null"], { encoding: "utf8", env: { ...process.env, TERM: "xterm" }, timeout: 120_000 });
  // eslint-disable-next-line no-control-regex
  const screen = r.stdout.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "").replace(/\r/g, "");
  return { status: r.status, screen };
}

describe("live progress on a terminal: maand hooks", { skip: noScript }, () => {
  let b: HookBucket;
  before(async () => {
    b = await hookBucket();
    await b.build({
      workers: workers(3),
      jobs: {
        api: {
          manifest: { version: "1.0.0", selectors: ["w"], max_concurrent_upgrades: 2, hooks: { hook_x: { executed_on: ["cli"] }, hook_bad: { executed_on: ["cli"] } } },
          files: { "_hooks/hook_x.py": recorderPy(), "_hooks/hook_bad.py": "import os, sys\nif os.environ['ALLOCATION_IP'] == '10.0.0.3':\n    sys.exit('no space left on 10.0.0.3')\n" },
        },
      },
    });
  });
  after(() => b.cleanup());

  it("draws the run id and a line per batch that stays once finished, then the per-allocation summary", () => {
    const r = inTerminal(b.root, "hooks", "hook_x", "api");
    assert.equal(r.status, 0, r.screen);
    assert.match(r.screen, /run \d{8}T\d{6}Z-[0-9a-f]+: cli, 3 invocation\(s\), \d+ s/);
    assert.match(r.screen, /✔ api hook_x batch 1\/2 \(10\.0\.0\.1,10\.0\.0\.2\): running 0, done 2, failed 0/);
    assert.match(r.screen, /✔ api hook_x batch 2\/2 \(10\.0\.0\.3\): running 0, done 1, failed 0/);
    assert.match(r.screen, /✔ run \S+: cli, 3 invocation\(s\), \d+ s/);
    // The live view did not list allocations, so the summary does, each once.
    for (const ip of ["10.0.0.1", "10.0.0.2", "10.0.0.3"]) assert.match(r.screen, new RegExp(`^${ip.replace(/\./g, "\\.")}\\s+api\\s+hook_x\\s+\\d/2\\s+ok`, "m"));
    assert.equal(b.records().length, 3);
  });

  it("a failing allocation marks its batch failed on screen and the report follows the view", () => {
    const r = inTerminal(b.root, "hooks", "hook_bad", "api");
    assert.equal(r.status, 3, r.screen);
    assert.match(r.screen, /api hook_bad batch 2\/2 \(10\.0\.0\.3\): running 0, done 0, failed 1/);
    assert.match(r.screen, /hook run \S+ failed on 1 allocation:\n\s+10\.0\.0\.3 \(job api, hook_bad, cli, batch 2\/2\): exit code 1[^]*no space left on 10\.0\.0\.3/);
  });
});

describe("live progress on a terminal: maand deploy", { skip: noScript ?? testWorkersUnavailable() }, () => {
  let b: DeployBucket;
  before(async () => {
    b = await deployBucket(2);
    b.build({ workers: b.ips.map((host) => ({ host, labels: ["worker"] })), jobs: { api: recordingJob(b.recordFile, { py: ["after_allocation_started"] }) } });
  });
  after(async () => {
    await b?.cleanup();
  });

  it("shows the run, wave and job while it works, and the summary table at the end", () => {
    const r = inTerminal(b.root, "deploy");
    assert.equal(r.status, 0, r.screen);
    assert.match(r.screen, /^deploy \d{8}T\d{6}Z-[0-9a-f]+$/m);
    assert.match(r.screen, /wave 0 {2}job api/);
    assert.match(r.screen, /job api: ok, promoted 2/);
    assert.equal(b.records().filter((x) => x.kind === "target").length, 2, "both starts ran");
  });
});
