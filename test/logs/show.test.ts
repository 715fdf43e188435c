import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { appendFileSync, readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { hookBucket, maand, workers, type HookBucket } from "../hooks/fixture.js";

/** `maand logs show` over real runs of `maand hooks`, in both log formats. */

const HOOK = `import os, sys
ip = os.environ["ALLOCATION_IP"]
print("out " + ip)
print("err " + ip, file=sys.stderr)
print("tab\\there")
`;

type Row = Record<string, string>;
const jsonRows = (stdout: string): Row[] => stdout.trimEnd().split("\n").filter(Boolean).map((l) => JSON.parse(l) as Row);
const runIdOf = (stdout: string) => /^run (\S+): cli/m.exec(stdout)![1]!;

describe("maand logs show (CLI, real processes)", () => {
  let b: HookBucket;
  const runs: Record<"api" | "web" | "apiJson", string> = { api: "", web: "", apiJson: "" };
  const setFormat = (format: string) => {
    const conf = join(b.root, "maand.conf");
    writeFileSync(conf, readFileSync(conf, "utf8").replace(/^log_format = .*$/m, `log_format = "${format}"`));
  };

  before(async () => {
    b = await hookBucket();
    await b.build({
      workers: workers(3),
      jobs: {
        api: { manifest: { selectors: ["w"], max_concurrent_upgrades: 3, hooks: { hook_a: { executed_on: ["cli"] } } }, files: { "_hooks/hook_a.py": HOOK } },
        web: { manifest: { selectors: ["w"], hooks: { hook_b: { executed_on: ["cli"] } } }, files: { "_hooks/hook_b.py": HOOK } },
      },
    });
    for (const [key, args] of [["api", ["hook_a", "api"]], ["web", ["hook_b", "web", "--allocations", "10.0.0.2"]]] as const) {
      const r = maand(b.root, "hooks", ...args);
      assert.equal(r.status, 0, r.stderr);
      runs[key] = runIdOf(r.stdout);
    }
    setFormat("json");
    const r = maand(b.root, "hooks", "hook_a", "api");
    assert.equal(r.status, 0, r.stderr);
    runs.apiJson = runIdOf(r.stdout);
    setFormat("text");
  });
  after(() => b.cleanup());

  it("prints the latest run by default, a JSON-format run as text lines, in time order", () => {
    const r = maand(b.root, "logs", "show");
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trimEnd().split("\n");
    assert.ok(lines.every((l) => l.includes(` run=${runs.apiJson} job=api hook=hook_a event=cli worker=10.0.0.`)), r.stdout);
    for (const ip of ["10.0.0.1", "10.0.0.2", "10.0.0.3"]) {
      assert.ok(lines.some((l) => l.endsWith(`worker=${ip} stream=stdout out ${ip}`)), ip);
      assert.ok(lines.some((l) => l.endsWith(`worker=${ip} stream=stderr err ${ip}`)), ip);
    }
    assert.ok(lines.some((l) => l.endsWith("stream=stdout tab\there")), "tabs stay tabs");
    const ts = lines.map((l) => l.split(" ")[0]!);
    assert.deepEqual(ts, [...ts].sort(), "the three invocations' lines are merged by time");
    // 3 invocations x (started, 3 output lines, exit status)
    assert.equal(lines.length, 15);
  });

  it("--json: one snake_case object per line, the fields log_format = \"json\" stores", () => {
    const r = maand(b.root, "logs", "show", "--run", runs.api, "--json");
    assert.equal(r.status, 0, r.stderr);
    const rows = jsonRows(r.stdout);
    assert.equal(rows.length, 15);
    for (const row of rows) assert.deepEqual(Object.keys(row), ["ts", "run_id", "job", "hook", "event", "worker", "stream", "line"]);
    assert.deepEqual(new Set(rows.map((x) => x.run_id)), new Set([runs.api]));
    // stdout and stderr are separate pipes: their relative order is the hook's flushing, not ours.
    const output = rows.filter((x) => x.worker === "10.0.0.3" && x.stream !== "maand").map((x) => `${x.stream} ${x.line}`);
    assert.deepEqual(output.sort(), ["stderr err 10.0.0.3", "stdout out 10.0.0.3", "stdout tab\there"]);
  });

  it("filters: --job picks that job's latest run, --worker, --hook, --event and --tail narrow it", () => {
    const web = jsonRows(maand(b.root, "logs", "show", "--job", "web", "--json").stdout);
    assert.deepEqual(new Set(web.map((x) => `${x.run_id} ${x.job} ${x.worker}`)), new Set([`${runs.web} web 10.0.0.2`]));

    const one = jsonRows(maand(b.root, "logs", "show", "--run", runs.api, "--worker", "10.0.0.2", "--hook", "hook_a", "--event", "cli", "--json").stdout);
    assert.equal(one.length, 5);
    assert.ok(one.every((x) => x.worker === "10.0.0.2" && x.hook === "hook_a"));

    const all = jsonRows(maand(b.root, "logs", "show", "--json").stdout);
    const tail = jsonRows(maand(b.root, "logs", "show", "--json", "--tail", "4").stdout);
    assert.deepEqual(tail, all.slice(-4));

    const none = maand(b.root, "logs", "show", "--event", "post_build");
    assert.equal(none.status, 0);
    assert.equal(none.stdout, "");
    assert.match(none.stderr, /no logged line matches \(--event post_build\) in 3 run\(s\) under logs\/runs\//);
  });

  it("a run gc already removed from logs/runs/ is still read from logs/<ip>.log with --worker", () => {
    const dir = join(b.root, "logs", "runs", runs.api);
    const away = join(b.root, "logs", `gone-${runs.api}`);
    renameSync(dir, away);
    try {
      const gone = maand(b.root, "logs", "show", "--run", runs.api);
      assert.equal(gone.status, 1);
      assert.match(gone.stderr, new RegExp(`no run ${runs.api} in logs/runs/ \\(gc removes runs older than --retain-days\\); latest runs: ${runs.apiJson}, ${runs.web}`));
      const r = maand(b.root, "logs", "show", "--run", runs.api, "--worker", "10.0.0.1", "--json");
      assert.equal(r.status, 0, r.stderr);
      const rows = jsonRows(r.stdout);
      assert.ok(rows.every((x) => x.run_id === runs.api && x.worker === "10.0.0.1"));
      assert.deepEqual(rows.map((x) => x.stream).sort(), ["maand", "maand", "stderr", "stdout", "stdout"]);
      assert.match(rows[0]!.line, /^started /);
      assert.match(rows.at(-1)!.line, /^ok \(exit code 0\)/);
      // The worker's log holds text and JSON lines (log_format changed): both are read.
      const latest = jsonRows(maand(b.root, "logs", "show", "--worker", "10.0.0.3", "--json").stdout);
      assert.deepEqual(new Set(latest.map((x) => x.run_id)), new Set([runs.apiJson]));
    } finally {
      renameSync(away, dir);
    }
  });

  it("skips a damaged line with a warning naming the file, and prints the rest", () => {
    const dir = join(b.root, "logs", "runs", runs.web);
    const file = join(dir, readdirSync(dir)[0]!);
    const before = readFileSync(file);
    appendFileSync(file, "not a log line\n");
    try {
      const r = maand(b.root, "logs", "show", "--run", runs.web);
      assert.equal(r.status, 0);
      assert.equal(r.stdout.trimEnd().split("\n").length, 5);
      assert.match(r.stderr, /^warning: \S+web\.hook_b\.10\.0\.0\.2\.log: 1 line\(s\) in neither log format skipped$/m);
    } finally {
      writeFileSync(file, before);
    }
  });

  it("bad flags are usage errors (exit 2) that say what is expected", () => {
    const cases: Array<[string[], RegExp]> = [
      [["--run", "../../secrets"], /--run "\.\.\/\.\.\/secrets": expected a run id like 20250102T030405Z-a1b2c3 \(the directory names in logs\/runs\/\)/],
      [["--tail", "0"], /--tail "0": expected a positive number of lines, e\.g\. --tail 50/],
      [["--tail", "x"], /--tail "x": expected a positive number/],
      [["--event", "deploy"], /--event "deploy": expected one of post_build, pre_deploy, .*after_allocation_stopped/],
      [["--worker", "bad host!"], /--worker "bad host!": expected a worker address/],
      [["--job", "a b"], /--job "a b": expected a job name/],
    ];
    for (const [args, message] of cases) {
      const r = maand(b.root, "logs", "show", ...args);
      assert.equal(r.status, 2, args.join(" "));
      assert.match(r.stderr, message);
    }
  });

  it("a bucket without runs says so; outside a bucket it is exit 2", async () => {
    const fresh = await hookBucket();
    try {
      const r = maand(fresh.root, "logs", "show");
      assert.equal(r.status, 0);
      assert.equal(r.stdout, "");
      assert.match(r.stderr, /no hook run is logged yet \(logs\/runs\/ is empty\); run 'maand hooks <hook>' or 'maand build'/);
      assert.equal(maand(join(fresh.root, "logs"), "logs", "show").status, 2);
    } finally {
      fresh.cleanup();
    }
  });
});
