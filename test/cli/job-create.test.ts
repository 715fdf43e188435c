import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { makeBucket, writeWorkspace } from "../helpers/bucket.js";
import { maand } from "../helpers/cli.js";

/** `maand job create`: the scaffold builds and its hook runs, with the real CLI and python3. */

const jobDir = (root: string, job: string) => join(root, "workspace", "jobs", job);

function listTree(dir: string, prefix = ""): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? listTree(join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`],
  ).sort();
}

describe("maand job create (CLI, real processes)", () => {
  let root: string;
  let cleanup: () => void;
  before(async () => {
    ({ root, cleanup } = await makeBucket("maand-job-create-"));
    writeWorkspace(root, { workers: [{ host: "10.0.0.1", labels: ["w"] }, { host: "10.0.0.2", labels: ["w"] }, { host: "10.0.0.3", labels: ["x"] }] });
  });
  after(() => cleanup());

  it("scaffolds a job that builds without a warning and whose hook runs on every allocation", () => {
    const r = maand(root, "job", "create", "app", "--selectors", "w");
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /created job app in workspace\/jobs\/app/);
    assert.deepEqual(listTree(jobDir(root, "app")), ["Makefile", "_hooks/hook_example.py", "manifest.json", "vars.toml"]);
    const manifest = JSON.parse(readFileSync(join(jobDir(root, "app"), "manifest.json"), "utf8"));
    assert.deepEqual(manifest, { version: "0.1.0", selectors: ["w"], hooks: { hook_example: { executed_on: ["cli"] } } });

    const build = maand(root, "build");
    assert.equal(build.status, 0, build.stderr);
    assert.equal(build.stderr, "", "no warning for a scaffolded job");
    const allocs = JSON.parse(maand(root, "cat", "allocations", "--json").stdout) as Array<{ job: string; worker_ip: string }>;
    assert.deepEqual(allocs.filter((a) => a.job === "app").map((a) => a.worker_ip), ["10.0.0.1", "10.0.0.2"]);

    const run = maand(root, "hooks", "hook_example", "app", "--verbose");
    assert.equal(run.status, 0, `${run.stdout}\n${run.stderr}`);
    assert.match(run.stdout, /\[10\.0\.0\.1 app hook_example\] hello from 10\.0\.0\.1/);
    assert.match(run.stdout, /\[10\.0\.0\.2 app hook_example\] hello from 10\.0\.0\.2/);
    const kv = JSON.parse(maand(root, "cat", "kv", "--json", "--jobs", "app", "--active").stdout) as Array<{ namespace: string; key: string; value: string }>;
    const written = kv.filter((k) => k.namespace === "vars/job/app" && k.key.startsWith("example_greeted_")).map((k) => [k.key, k.value]);
    assert.deepEqual(written, [["example_greeted_10.0.0.1", "hello"], ["example_greeted_10.0.0.2", "hello"]]);
  });

  it("the example hook reads vars.toml through KV", () => {
    const vars = join(jobDir(root, "app"), "vars.toml");
    writeFileSync(vars, readFileSync(vars, "utf8").replace('greeting = "hello"', 'greeting = "good morning"'));
    assert.equal(maand(root, "build").status, 0);
    const run = maand(root, "hooks", "hook_example", "app", "--verbose", "--allocations", "10.0.0.2");
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /\] good morning from 10\.0\.0\.2/);
  });

  it("the Makefile has start, stop, restart and reload, each echoing the versions (real make)", () => {
    for (const [target, expected] of [
      ["start", "start app 0.2.0"],
      ["stop", "stop app 0.1.0"],
      ["restart", "restart app 0.1.0 -> 0.2.0"],
      ["reload", "reload app 0.1.0 -> 0.2.0"],
    ] as const) {
      const r = spawnSync("make", ["-s", "-C", jobDir(root, "app"), target, "CURRENT_VERSION=0.1.0", "NEW_VERSION=0.2.0"], { encoding: "utf8" });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, `${expected}\n`);
    }
  });

  it("without --selectors the job name is the selector, written into the manifest", () => {
    assert.equal(maand(root, "job", "create", "x").status, 0);
    assert.deepEqual(JSON.parse(readFileSync(join(jobDir(root, "x"), "manifest.json"), "utf8")).selectors, ["x"]);
    const build = maand(root, "build");
    assert.equal(build.status, 0, build.stderr);
    const allocs = JSON.parse(maand(root, "cat", "allocations", "--json", "--jobs", "x").stdout) as Array<{ worker_ip: string }>;
    assert.deepEqual(allocs.map((a) => a.worker_ip), ["10.0.0.3"]);
  });

  it("refuses an existing job, a bad name or bad selectors, naming the fix and writing nothing", () => {
    const manifest = join(jobDir(root, "app"), "manifest.json");
    const before = readFileSync(manifest, "utf8");
    const mtime = statSync(manifest).mtimeMs;
    const jobsBefore = readdirSync(join(root, "workspace", "jobs")).sort();
    const cases: Array<[string[], number, RegExp]> = [
      [["app"], 1, /^maand: job app already exists \(workspace\/jobs\/app\); pick another name, or edit its files there$/m],
      [["../evil"], 2, /job name "\.\.\/evil": expected a name of letters, digits, _ \. - \(not starting with \. or -\), e\.g\. maand job create api/],
      [[".hidden"], 2, /job name "\.hidden": expected a name/],
      [["-x"], 2, /unknown option '-x'/],
      [["a b"], 2, /job name "a b": expected a name/],
      [[""], 2, /job name "": expected a name/],
      [["new", "--selectors", "w,,x"], 2, /--selectors "w,,x": expected comma-separated worker labels.*e\.g\. --selectors api,worker/],
      [["new", "--selectors", ""], 2, /--selectors "": expected comma-separated worker labels/],
    ];
    for (const [args, status, message] of cases) {
      const r = maand(root, "job", "create", ...args);
      assert.equal(r.status, status, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, message, args.join(" "));
    }
    assert.equal(readFileSync(manifest, "utf8"), before);
    assert.equal(statSync(manifest).mtimeMs, mtime);
    assert.deepEqual(readdirSync(join(root, "workspace", "jobs")).sort(), jobsBefore, "no job and no hidden leftover");
  });

  it("outside a bucket it fails with exit 2 and says how to make one", () => {
    const r = maand(join(root, "workspace"), "job", "create", "app");
    assert.equal(r.status, 2);
    assert.match(r.stderr, /is not a maand bucket .*run 'maand init' there or pass --bucket DIR/);
  });
});
