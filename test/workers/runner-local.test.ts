import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadWorkerScripts } from "../../server/workers/scripts.js";

// runner.py run locally against a temp copy of the worker layout (<bucket>/bin/runner.py,
// <bucket>/jobs/<job>/Makefile): its start-up cost, its JSON and its command line, none of
// which needs a real worker.
const probe = spawnSync("python3", ["-c", "import sys; print(sys.executable)"], { encoding: "utf8" });
// The interpreter itself, not a wrapper such as a pyenv shim that costs more than python's start.
const PYTHON = probe.status === 0 ? probe.stdout.trim() : "python3";
const skip = probe.status === 0 && spawnSync("make", ["--version"]).status === 0 ? false : "needs python3 and make";
const BUCKET = "0b6a4d8e-1111-4000-8000-00000000l001";
// Output that json.dumps escapes in every way it can: quotes, backslashes, control characters
// and DEL, non-ASCII, a character beyond the BMP (a surrogate pair), and bytes that are not
// UTF-8 (decoded with 'replace'), a CR before the newline, and a last line without a newline.
const TRICKY = String.raw`q"uote\\back\tslash\001\037\177 caf\303\251 \342\202\254 \360\237\230\200 bad\377\376 cut\342\202\n\r\nnonl`;
const MAKEFILE = [
  "start:",
  "\t@echo \"starting $(JOB) $$BUCKET_ID $$TARGET from [$$CURRENT_VERSION] to [$$NEW_VERSION]\"",
  "tricky:",
  `\t@printf '${TRICKY}'`,
  "\t@echo >&2 to-stderr",
  "",
].join("\n");
const IMPORTED_BY_ARGPARSE_ETC = ["argparse", "subprocess", "threading", "signal", "enum", "re", "json", "collections"];

describe("runner.py locally", { skip }, () => {
  let root: string;
  let runner: string;
  const py = (args: string[], env: Record<string, string> = {}) =>
    spawnSync(PYTHON, ["-E", "-S", ...args], { encoding: "utf8", timeout: 30_000, env: { ...process.env, CURRENT_VERSION: "1.0.0", NEW_VERSION: "1.1.0", ...env } });
  /** Runs python code with runner.py loaded as a module (its __main__ block does not run) as `r`. */
  const withRunner = (code: string, ...args: string[]) =>
    py(["-c", `import runpy, sys\nr = type("runner", (), runpy.run_path(${JSON.stringify(runner)}, run_name="runner"))\n${code}`, ...args]);

  before(() => {
    root = mkdtempSync(join(tmpdir(), "maand-runner-"));
    const bucket = join(root, BUCKET);
    mkdirSync(join(bucket, "bin"), { recursive: true });
    mkdirSync(join(bucket, "jobs", "web"), { recursive: true });
    runner = join(bucket, "bin", "runner.py");
    writeFileSync(runner, loadWorkerScripts().runner);
    writeFileSync(join(bucket, "jobs", "web", "Makefile"), MAKEFILE);
    writeFileSync(join(bucket, "jobs.json"), JSON.stringify({ web: { current_version: "0.9", new_version: "1.0" } }));
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it("imports none of argparse, subprocess, threading, signal, enum, re, json, collections on its normal path", () => {
    for (const extra of [["--json"], []]) {
      const r = py(["-X", "importtime", runner, BUCKET, "start", "--jobs", "web", "--timeout", "30", ...extra]);
      assert.equal(r.status, 0, r.stderr);
      const imported = r.stderr
        .split("\n")
        .filter((l) => l.startsWith("import time:") && !l.includes("| imported package"))
        .map((l) => l.split("|").pop()!.trim());
      assert.ok(imported.includes("os"), `-X importtime listed: ${imported.join(" ")}`);
      const heavy = imported.filter((m) => IMPORTED_BY_ARGPARSE_ETC.includes(m.split(".")[0]));
      assert.deepEqual(heavy, [], `the normal path imported ${heavy.join(", ")}`);
      const line = "starting web " + BUCKET + " start from [1.0.0] to [1.1.0]";
      if (extra.length) assert.deepEqual(JSON.parse(r.stdout).jobs[0].tail, [line]);
      else assert.equal(r.stdout, `${line}\nweb start: ok\n`);
    }
    // Without the versions in the environment, jobs.json is read (and json imported for it).
    const env = { ...process.env };
    delete env.CURRENT_VERSION;
    delete env.NEW_VERSION;
    const r = spawnSync(PYTHON, ["-E", "-S", runner, "start", "--jobs", "web", "--json"], { encoding: "utf8", env });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout).jobs[0].tail, [`starting web ${BUCKET} start from [0.9] to [1.0]`]);
  });

  it("writes its JSON report byte for byte as json.dumps would, whatever make prints", () => {
    const r = py([runner, "tricky", "--jobs", "web", "--json"]);
    assert.equal(r.status, 0, r.stderr);
    const tail = [String.raw`q"uote\back	slash` + "\u0001\u001f\u007f café € 😀 bad\ufffd\ufffd cut\ufffd", "", "nonlto-stderr"];
    assert.deepEqual(JSON.parse(r.stdout).jobs[0].tail, tail);
    assert.match(r.stdout, /\\u007f caf\\u00e9 \\u20ac \\ud83d\\ude00 bad\\ufffd\\ufffd cut\\ufffd", "", "nonlto-stderr"\]/);
    const again = spawnSync(PYTHON, ["-E", "-S", "-c", "import json, sys; sys.stdout.write(json.dumps(json.loads(sys.stdin.read())) + '\\n')"], { input: r.stdout, encoding: "utf8" });
    assert.equal(again.status, 0, again.stderr);
    assert.equal(r.stdout, again.stdout);
    // The encoder on its own, against json.dumps, for every BMP code point (lone surrogates
    // included, as a path or an argument decoded with surrogateescape can hold), astral ones,
    // and the report's other types.
    const check = withRunner(
      [
        "import json",
        "values = [''.join(map(chr, range(i, min(i + 512, 0x10000)))) for i in range(0, 0x10000, 512)]",
        "values += [chr(c) * 3 for c in (0x10000, 0x1F600, 0x10FFFF)] + ['\\udcff\\udcfe', 'a\\ud83d', '\\ude00b']",
        "values += [[], {}, None, True, False, 0, -15, 2 ** 70, {'tail': ['x', 'y'], 'n': None, 'ok': False, 'list': [1, [2, {}]]}]",
        "bad = [v for v in values if r.to_json(v) != json.dumps(v)]",
        "print(len(values), ascii(bad[:3]))",
      ].join("\n"),
    );
    assert.equal(check.status, 0, check.stderr);
    assert.equal(check.stdout, "143 []\n");
  });

  it("parses its canonical command line by hand exactly as argparse would, and leaves the rest to argparse", () => {
    // [argv, whether the hand parser takes it (the rest goes to argparse)]
    const table: [string[], boolean][] = [
      [[BUCKET, "start", "--jobs", "web"], true],
      [["start", "--jobs", "web,api"], true],
      [["--jobs", "web", BUCKET, "start", "--timeout", "30", "--json"], true],
      [["--json", "--timeout", "1.5", BUCKET, "start", "--jobs", ",web,,api,"], true],
      [["start", "--timeout", "1e3", "--jobs", "web"], true],
      [["start", "--timeout", "nan", "--jobs", "web"], true],
      [["", "start", "--jobs", "web"], true],
      [["re.start@x/y+z-1", "--jobs", "w"], true],
      [["start", "--jobs", "web", "--timeout", "0"], false],
      [["start", "--jobs", "web", "--timeout", "-1"], false],
      [["start", "--jobs", "web", "--timeout", "abc"], false],
      [["start", "--jobs", "web", "--timeout", ""], false],
      [["start", "--jobs", "web", "--timeout"], false],
      [["start"], false],
      [["start", "--jobs", ","], false],
      [["start", "--jobs", ""], false],
      [["start", "--jobs", "--json"], false],
      [["-x", "--jobs", "web"], false],
      [[BUCKET, "-x", "--jobs", "web"], false],
      [["X=1", "--jobs", "web"], false],
      [["start\n", "--jobs", "web"], false],
      [["", "--jobs", "web"], false],
      [["a", "b", "start", "--jobs", "web"], false],
      [[BUCKET, "--jobs", "web", "start"], false],
      [["--jobs", "web"], false],
      [[], false],
      [["start", "--jobs=web"], false],
      [["start", "--jo", "web"], false],
      [["start", "--jobs", "a", "--jobs", "b"], false],
      [["start", "--jobs", "web", "--json", "--json"], false],
      [["start", "--jobs", "web", "--", "x"], false],
      [["start", "--jobs", "web", "--verbose"], false],
      [["--help"], false],
      [["start", "-h", "--jobs", "web"], false],
    ];
    // Each argv through the hand parser, then through runner.py's choice (args_of) and through
    // argparse alone (parse_args), in one interpreter: what each printed, exited with or returned.
    const outcomes = withRunner(
      [
        "import io, json",
        "def outcome(parse, argv):",
        "    out, err, sys.stdout, sys.stderr = sys.stdout, sys.stderr, io.StringIO(), io.StringIO()",
        "    try:",
        "        a = parse(argv)",
        "        code, value = 0, ascii([a.bucket_id, a.target, a.jobs, a.timeout, a.json])",
        "    except SystemExit as e:",
        "        code, value = e.code, None",
        "    finally:",
        "        said, sys.stdout, sys.stderr = [sys.stdout.getvalue(), sys.stderr.getvalue()], out, err",
        "    return [code, value] + said",
        "print(json.dumps([[r.fast_args(argv) is not None, outcome(r.args_of, argv), outcome(r.parse_args, argv)] for argv in json.loads(sys.argv[1])]))",
      ].join("\n"),
      JSON.stringify(table.map(([argv]) => argv)),
    );
    assert.equal(outcomes.status, 0, outcomes.stderr);
    const results = JSON.parse(outcomes.stdout) as [boolean, unknown[], unknown[]][];
    table.forEach(([argv, fast], i) => {
      const what = JSON.stringify(argv);
      const [taken, chosen, byArgparse] = results[i];
      assert.equal(taken, fast, `${what}: taken by the hand parser`);
      assert.deepEqual(chosen, byArgparse, what);
      assert.ok(byArgparse[0] === 0 || byArgparse[0] === 2, `${what}: ${JSON.stringify(byArgparse)}`);
      if (byArgparse[0] === 2 || argv.includes("--help")) {
        // And runner.py itself says and exits the same.
        const real = py([runner, ...argv]);
        assert.deepEqual([real.status, real.stdout, real.stderr], [byArgparse[0], byArgparse[2], byArgparse[3]], what);
      }
    });
    assert.match(withRunner("r.parse_args(sys.argv[1:])", "start", "--jobs", "web", "--timeout", "0").stderr, /error: --timeout must be positive\n$/);
    assert.match(py([runner, "-x", "--jobs", "web"]).stderr, /^usage: runner.py \[bucket_id\] target --jobs JOB\[,JOB...\] \[--timeout SECONDS\] \[--json\]\n/);
  });
});
