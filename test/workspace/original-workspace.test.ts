import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { makeBucket, writeJob, writeWorkspace } from "../helpers/bucket.js";
import { maand } from "../helpers/cli.js";

/**
 * A workspace written for the original maand (manifest `commands`, `command_*` hooks, scripts in
 * `_modules/`, `demands.command`, maand.conf log_format = "kv") builds unchanged, with one
 * warning per file, and its hooks run under their original names: real CLI, real python3.
 */

const REAL_PYTHON = spawnSync("python3", ["-c", "import sys; print(sys.executable)"], { encoding: "utf8" }).stdout.trim();

// In the original's style: the names it had, its helpers' original aliases.
const SCHEMA = `import os
from maand import command_event, command_name, kv_put, list_command_demands
assert command_name() == "command_schema" == os.environ["COMMAND"], command_name()
kv_put("schema_version", "2.3").raise_for_status()
for d in list_command_demands().json():
    print("downstream %s/%s (%s) wants %s" % (d["job"], d["command"], command_event(), d["demand_config"]))
`;
const MIGRATE = `import os
from maand import allocation_ip, command_name, get_kv_value
assert command_name() == "command_migrate", command_name()
schema = get_kv_value("vars/job/database", "schema_version")
print("migrating %s to %s as %s, venv=%s" % (allocation_ip(), schema, os.environ["COMMAND"], os.environ.get("ORIGINAL_VENV", "no")))
`;
// The original kept its own maand.py in _modules/; the generated one must replace it.
const STALE_SDK = 'raise SystemExit("the original maand.py was imported")\n';
// The original looked for a virtualenv in _modules/ as well.
const VENV_PYTHON = `#!/bin/sh\nORIGINAL_VENV=yes exec ${REAL_PYTHON} "$@"\n`;

const setConf = (root: string, key: string, value: string) => {
  const conf = join(root, "maand.conf");
  writeFileSync(conf, readFileSync(conf, "utf8").replace(new RegExp(`^${key} = .*$`, "m"), `${key} = ${value}`));
};

describe("a workspace written for the original maand (CLI, real processes)", () => {
  let root: string;
  let cleanup: () => void;
  before(async () => {
    ({ root, cleanup } = await makeBucket("maand-original-"));
    setConf(root, "log_format", '"kv"');
    writeWorkspace(root, {
      workers: [{ host: "10.0.0.1", labels: ["db"] }, { host: "10.0.0.2", labels: ["app"] }, { host: "10.0.0.3", labels: ["app"] }],
      jobs: {
        database: {
          manifest: { version: "2.3.0", selectors: ["db"], commands: { command_schema: { executed_on: ["cli"] } } },
          files: { Makefile: "start:\n\ttrue\n", "_modules/command_schema.py": SCHEMA, "_modules/maand.py": STALE_SDK },
        },
        app: {
          manifest: {
            version: "1.0.0",
            selectors: ["app"],
            commands: {
              command_migrate: { executed_on: ["cli"], demands: { job: "database", command: "command_schema", config: { min_version: "2.0.0" } } },
              command_noop: { executed_on: ["post_deploy"] },
            },
          },
          files: {
            Makefile: "start:\n\ttrue\n",
            "_modules/command_migrate.py": MIGRATE,
            "_modules/command_noop.py": "pass\n",
            "_modules/.venv/bin/python3": { content: VENV_PYTHON, mode: 0o755 },
          },
        },
      },
    });
  });
  after(() => cleanup());

  it("builds, with exactly one warning per file naming the current spellings", () => {
    const r = maand(root, "build");
    assert.equal(r.status, 0, r.stderr);
    const warnings = r.stderr.trimEnd().split("\n");
    assert.deepEqual(warnings.map((w) => w.split(": ")[1]), ["maand.conf", "workspace/jobs/app/manifest.json", "workspace/jobs/database/manifest.json"]);
    assert.equal(warnings[0], 'warning: maand.conf: log_format = "kv" (the original maand\'s spelling) is read as "text": write log_format = "text"');
    assert.equal(
      warnings[1],
      'warning: workspace/jobs/app/manifest.json: $: uses the original maand\'s spellings, read as the current ones: "commands" -> "hooks", ' +
        '"command_migrate" -> "hook_migrate", "demands.command" -> "demands.hook", "command_schema" -> "hook_schema", _modules/ -> _hooks/, ' +
        '"command_noop" -> "hook_noop"; rename them to the current spellings (until then each hook keeps its original name, which its scripts see as COMMAND)',
    );
    assert.match(warnings[2]!, /database\/manifest\.json: \$: uses the original maand's spellings, read as the current ones: "commands" -> "hooks", "command_schema" -> "hook_schema", _modules\/ -> _hooks\/; /);
  });

  it("the catalog keeps the original hook names and script paths; demands order the jobs", () => {
    const hooks = JSON.parse(maand(root, "cat", "hooks", "--json").stdout) as Array<Record<string, unknown>>;
    assert.deepEqual(
      hooks.map((h) => [h.job, h.hook, h.event, h.script, h.demand_job ?? null, h.demand_hook ?? null]).sort((a, b) => (`${a[0]}${a[1]}` < `${b[0]}${b[1]}` ? -1 : 1)),
      [
        ["app", "command_migrate", "cli", "_modules/command_migrate.py", "database", "command_schema"],
        ["app", "command_noop", "post_deploy", "_modules/command_noop.py", null, null],
        ["database", "command_schema", "cli", "_modules/command_schema.py", null, null],
      ],
    );
    const jobs = JSON.parse(maand(root, "cat", "jobs", "--json").stdout) as Array<{ name: string; deployment_seq: number }>;
    assert.deepEqual(jobs.map((j) => [j.name, j.deployment_seq]).sort(), [["app", 1], ["database", 0]]);
  });

  it("runs the hooks as command_* with the generated SDK beside them, the _modules venv, and kv logs read as text", () => {
    const schema = maand(root, "hooks", "command_schema", "database", "--verbose");
    assert.equal(schema.status, 0, `${schema.stdout}\n${schema.stderr}`);
    assert.match(schema.stdout, /\[10\.0\.0\.1 database command_schema\] downstream app\/command_migrate \(cli\) wants \{'min_version': '2\.0\.0'\}/);

    const migrate = maand(root, "hooks", "command_migrate", "app", "--verbose");
    assert.equal(migrate.status, 0, `${migrate.stdout}\n${migrate.stderr}`);
    for (const ip of ["10.0.0.2", "10.0.0.3"]) assert.match(migrate.stdout, new RegExp(`\\[${ip} app command_migrate\\] migrating ${ip} to 2\\.3 as command_migrate, venv=yes`));

    const runs = readdirSync(join(root, "logs", "runs"));
    const lines = readFileSync(join(root, "logs", "10.0.0.2.log"), "utf8").trimEnd().split("\n");
    assert.ok(lines.every((l) => / run=\S+ job=app hook=command_migrate event=cli worker=10\.0\.0\.2 stream=/.test(l)), "text lines");
    const shown = maand(root, "logs", "show", "--job", "app", "--worker", "10.0.0.3", "--json");
    assert.equal(shown.status, 0, shown.stderr);
    assert.ok(shown.stdout.trimEnd().split("\n").some((l) => JSON.parse(l).line === "migrating 10.0.0.3 to 2.3 as command_migrate, venv=yes"));
    assert.equal(runs.length, 2);
  });

  it('log_format = "jsonl" is read as "json"', () => {
    setConf(root, "log_format", '"jsonl"');
    const build = maand(root, "build");
    assert.equal(build.status, 0, build.stderr);
    assert.match(build.stderr, /^warning: maand\.conf: log_format = "jsonl" \(the original maand's spelling\) is read as "json": write log_format = "json"$/m);
    const r = maand(root, "hooks", "command_schema", "database");
    assert.equal(r.status, 0, r.stderr);
    const last = readFileSync(join(root, "logs", "10.0.0.1.log"), "utf8").trimEnd().split("\n").at(-1)!;
    assert.equal(JSON.parse(last).hook, "command_schema");
    setConf(root, "log_format", '"text"');
    const current = maand(root, "build").stderr.trimEnd().split("\n");
    assert.deepEqual(current.map((w) => w.split(": ")[1]), ["workspace/jobs/app/manifest.json", "workspace/jobs/database/manifest.json"], "maand.conf no longer warns");
  });

  it("original and current spellings of the same thing together are an error naming the fix, and nothing is built", () => {
    const before = maand(root, "cat", "hooks", "--json").stdout;
    writeJob(root, "both", { manifest: { selectors: ["db"], hooks: {}, commands: {} } });
    writeJob(root, "twice", {
      manifest: { selectors: ["db"], hooks: { hook_x: { executed_on: ["cli"], demands: { job: "database", hook: "command_schema", command: "command_schema" } } } },
      files: { "_hooks/hook_x.py": "pass\n", "_modules/hook_x.py": "pass\n" },
    });
    writeJob(root, "typo", { manifest: { selectors: ["db"], hookz: {} } });
    const r = maand(root, "build");
    assert.equal(r.status, 1);
    // The original spellings are read, not advertised: the hint lists the current fields only.
    const typo = r.stderr.split("\n").find((l) => l.includes("jobs/typo/manifest.json"))!;
    assert.match(typo, /\$\.hookz: \{\} unknown field "hookz" \(did you mean "hooks"\?\); expected one of version, selectors, .*certs$/);
    assert.doesNotMatch(typo, /commands/);
    assert.match(r.stderr, /workspace\/jobs\/both\/manifest\.json: \$\.commands: is set together with "hooks"; expected only "hooks" \(the original maand's name for it is "commands"\): merge them into "hooks"/);
    assert.match(r.stderr, /workspace\/jobs\/twice\/manifest\.json: \$\.hooks\.hook_x\.demands\.command: "command_schema" is set together with "hook"; expected only "hook"/);
    assert.match(r.stderr, /workspace\/jobs\/twice\/manifest\.json: \$\.hooks\.hook_x: has 2 scripts \(_hooks\/hook_x\.py, _modules\/hook_x\.py\); expected exactly one/);
    assert.equal(maand(root, "cat", "hooks", "--json").stdout, before);
  });
});
