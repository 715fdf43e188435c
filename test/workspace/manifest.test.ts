import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { workspaceBucket, assertProblem, assertOnly, HOOK_PY } from "./helpers.js";

const FILE = "workspace/jobs/api/manifest.json";

describe("readWorkspace: manifest.json", () => {
  let b: Awaited<ReturnType<typeof workspaceBucket>>;
  before(async () => (b = await workspaceBucket()));
  after(() => b.cleanup());

  const failWith = (manifest: Record<string, unknown>, files: Record<string, string> = {}) => {
    b.write({ jobs: { api: { manifest, files } } });
    return b.fail();
  };

  it("reports unknown fields at every level with their JSON path", () => {
    const err = failWith(
      {
        version: "1.0.0",
        selector: ["api"],
        hooks: { hook_a: { executed_on: ["cli"], timeout: 5, demands: { job: "", hook: "", extra: 1 } } },
        health_check: { checks: [{ type: "tcp", port: 80, host: "x" }], wait: { attempts: 2, delay: 1 }, retries: 3 },
        certs: { server: { subject: { common_name: "api" }, pkcs12: true } },
      },
      { "_hooks/hook_a.py": HOOK_PY },
    );
    assertProblem(err, FILE, "$.selector", ['unknown field "selector"', 'did you mean "selectors"'], ["api"]);
    assertProblem(err, FILE, "$.hooks.hook_a.timeout", ['unknown field "timeout"', "executed_on, demands, timeout_seconds"], 5);
    assertProblem(err, FILE, "$.hooks.hook_a.demands.extra", ['unknown field "extra"', "job, hook, config"], 1);
    assertProblem(err, FILE, "$.health_check.checks[0].host", ['unknown field "host"', "type, port"], "x");
    assertProblem(err, FILE, "$.health_check.wait.delay", ['unknown field "delay"'], 1);
    assertProblem(err, FILE, "$.health_check.retries", ['unknown field "retries"'], 3);
    assertProblem(err, FILE, "$.certs.server.pkcs12", ['unknown field "pkcs12"', 'did you mean "pkcs8"'], true);
    assert.equal(err.problems.length, 7, err.message);
  });

  it("rejects bad version strings and normalises good ones", () => {
    for (const bad of ["latest", "1.2.3.4", "", 3, "01.2"]) {
      assertProblem(failWith({ version: bad }), FILE, "$.version", ["semver-like version"], bad);
    }
    for (const [given, want] of [["v2.1", "2.1.0"], ["3", "3.0.0"], ["1.2.3-rc.1", "1.2.3-rc.1"], ["V1.0.0+b7", "1.0.0"]]) {
      b.write({ jobs: { api: { manifest: { version: given } } } });
      assert.equal(b.read().jobs[0].version, want, given);
    }
    b.write({ jobs: { api: { manifest: {} } } });
    assert.equal(b.read().jobs[0].version, "0.0.0");
  });

  it("rejects bad selectors, concurrency and restart policy", () => {
    const err = failWith({ selectors: ["ok", "no space", 1], max_concurrent_upgrades: 1.5, max_concurrent_starts: -1, restart_policy: "sometimes" });
    assertProblem(err, FILE, "$.selectors[1]", ["expected a worker label"], "no space");
    assertProblem(err, FILE, "$.selectors[2]", ["expected a worker label"], 1);
    assertProblem(err, FILE, "$.max_concurrent_upgrades", ["expected an integer"], 1.5);
    assertProblem(err, FILE, "$.max_concurrent_starts", ["expected an integer >= 0"], -1);
    assertProblem(err, FILE, "$.restart_policy", ['one of "always", "restart", "reload", "never"'], "sometimes");
    assert.equal(err.problems.length, 5, err.message);
    assertProblem(failWith({ selectors: "api" }), FILE, "$.selectors", ["expected an array of worker labels"], "api");
  });

  it("treats empty selectors as the job name and negative upgrades as 1", () => {
    b.write({ jobs: { api: { manifest: { selectors: [], max_concurrent_upgrades: -3 } } } });
    const [api] = b.read().jobs;
    assert.deepEqual(api.selectors, ["api"]);
    assert.equal(api.maxConcurrentUpgrades, 1);
  });

  it("requires hook names to start with hook_", () => {
    const err = failWith({ hooks: { migrate: { executed_on: ["cli"] }, "hook_bad-name": { executed_on: ["cli"] } } }, { "_hooks/migrate.py": HOOK_PY });
    assertProblem(err, FILE, "$.hooks.migrate", ['starting with "hook_"'], "migrate");
    assertProblem(err, FILE, '$.hooks["hook_bad-name"]', ['starting with "hook_"'], "hook_bad-name");
    assert.equal(err.problems.length, 2, err.message);
  });

  it("rejects unknown, duplicate, empty and missing events", () => {
    const err = failWith(
      { hooks: { hook_a: { executed_on: ["cli", "on_boot", "cli"] }, hook_b: { executed_on: [] }, hook_c: {}, hook_d: { executed_on: "cli" } } },
      { "_hooks/hook_a.py": HOOK_PY, "_hooks/hook_b.py": HOOK_PY, "_hooks/hook_c.py": HOOK_PY, "_hooks/hook_d.py": HOOK_PY },
    );
    assertProblem(err, FILE, "$.hooks.hook_a.executed_on[1]", ["is not a hook event", "post_build, pre_deploy"], "on_boot");
    assertProblem(err, FILE, "$.hooks.hook_a.executed_on[2]", ["listed twice"], "cli");
    assertProblem(err, FILE, "$.hooks.hook_b.executed_on", ["non-empty array of events"], []);
    assertProblem(err, FILE, "$.hooks.hook_c.executed_on", ["is missing", "non-empty array of events"]);
    assertProblem(err, FILE, "$.hooks.hook_d.executed_on", ["non-empty array of events"], "cli");
    assert.equal(err.problems.length, 5, err.message);
  });

  it("requires exactly one script per hook", () => {
    const err = failWith(
      { hooks: { hook_none: { executed_on: ["cli"] }, hook_two: { executed_on: ["cli"] } } },
      { "_hooks/hook_two.py": HOOK_PY, "_hooks/hook_two.js": "1\n", "hooks/hook_none.py": HOOK_PY },
    );
    assertProblem(err, FILE, "$.hooks.hook_none", ["has no script", "_hooks/hook_none.py, _hooks/hook_none.ts, _hooks/hook_none.js"]);
    assertProblem(err, FILE, "$.hooks.hook_two", ["2 scripts", "_hooks/hook_two.py, _hooks/hook_two.js", "exactly one"]);
    assert.equal(err.problems.length, 2, err.message);
  });

  it("rejects a bad hook timeout", () => {
    const err = failWith({ hooks: { hook_a: { executed_on: ["cli"], timeout_seconds: 0 } } }, { "_hooks/hook_a.py": HOOK_PY });
    assertProblem(err, FILE, "$.hooks.hook_a.timeout_seconds", ["expected an integer from 1 to 2147483"], 0);
    // Longer than a Node timer can wait: it would fire at once and kill every hook at start.
    const long = failWith({ hooks: { hook_a: { executed_on: ["cli"], timeout_seconds: 3_000_000 } } }, { "_hooks/hook_a.py": HOOK_PY });
    assertProblem(long, FILE, "$.hooks.hook_a.timeout_seconds", ["expected an integer from 1 to 2147483"], 3_000_000);
  });

  it("validates health checks", () => {
    const err = failWith({
      health_check: {
        checks: [
          { type: "tcp", port: 0 },
          { type: "http", port: 70000, path: "healthz", expect_status: 99, scheme: "ftp", expect_body: "" },
          { type: "tcp", port: "not a key!" },
          { type: "ssh" },
          { type: "icmp" },
          { port: 80 },
        ],
        timeout_seconds: -1,
        wait: { attempts: 0, interval_seconds: -2 },
      },
    });
    assertProblem(err, FILE, "$.health_check.checks[0].port", ["a port from 1 to 65535 or the name of a KV key"], 0);
    assertProblem(err, FILE, "$.health_check.checks[1].port", ["a port from 1 to 65535 or the name of a KV key"], 70000);
    assertProblem(err, FILE, "$.health_check.checks[1].path", ['starting with "/"'], "healthz");
    assertProblem(err, FILE, "$.health_check.checks[1].expect_status", ["integer from 100 to 599"], 99);
    assertProblem(err, FILE, "$.health_check.checks[1].scheme", ['one of "http", "https"'], "ftp");
    assertProblem(err, FILE, "$.health_check.checks[1].expect_body", ["non-empty string"], "");
    assertProblem(err, FILE, "$.health_check.checks[2].port", ["the name of a KV key holding it (letters, digits, _ . -)"], "not a key!");
    assertProblem(err, FILE, "$.health_check.checks[3].command", ["is missing", "shell command"]);
    assertProblem(err, FILE, "$.health_check.checks[4].type", ['one of "tcp", "http", "ssh"'], "icmp");
    assertProblem(err, FILE, "$.health_check.checks[5].type", ["is missing", "a check type: tcp, http or ssh"]);
    assertProblem(err, FILE, "$.health_check.timeout_seconds", ["integer from 1 to 2147483"], -1);
    assertProblem(err, FILE, "$.health_check.wait.attempts", ["integer >= 1"], 0);
    assertProblem(err, FILE, "$.health_check.wait.interval_seconds", ["number >= 0"], -2);
    assert.equal(err.problems.length, 13, err.message);
  });

  it("validates certs", () => {
    const err = failWith({
      certs: {
        "bad name": { subject: { common_name: "x" } },
        nocn: { subject: { organization: "acme" } },
        nosubject: {},
        badfields: { subject: { common_name: "x", country: 49 }, pkcs8: "yes" },
        values: {
          subject: { common_name: "a\u001bb", country: "USA", email: "ü@x", serial_number: "é", domain_component: "π", organization: "", flavour: "x" },
        },
      },
    });
    assertProblem(err, FILE, '$.certs["bad name"]', ["cert name"], "bad name");
    assertProblem(err, FILE, "$.certs.nocn.subject.common_name", ["is missing"]);
    assertProblem(err, FILE, "$.certs.nosubject.subject", ["is missing"]);
    assertProblem(err, FILE, "$.certs.badfields.subject.country", ["expected a non-empty string"], 49);
    assertProblem(err, FILE, "$.certs.badfields.pkcs8", ["true or false"], "yes");
    // every subject value is checked here, with the other problems, not when build issues the cert
    assertProblem(err, FILE, "$.certs.values.subject.common_name", ["without control characters"], "a\u001bb");
    assertProblem(err, FILE, "$.certs.values.subject.country", ["two-letter country code"], "USA");
    assertProblem(err, FILE, "$.certs.values.subject.email", ["ASCII email address"], "ü@x");
    assertProblem(err, FILE, "$.certs.values.subject.serial_number", ["letters, digits"], "é");
    assertProblem(err, FILE, "$.certs.values.subject.domain_component", ["ASCII text"], "π");
    assertProblem(err, FILE, "$.certs.values.subject.organization", ["non-empty string"], "");
    assertProblem(err, FILE, "$.certs.values.subject.flavour", ["is not a subject field", "common_name, organization"], "x");
    assert.equal(err.problems.length, 12, err.message);
  });

  it("checks cert subjects of a job placed on no worker too", () => {
    b.write({ workers: [], jobs: { api: { manifest: { version: "1.0.0", certs: { server: { subject: { common_name: "api", colour: "x" } } } } } } });
    assertProblem(b.fail(), FILE, "$.certs.server.subject.colour", ["is not a subject field"], "x");
  });

  it("says the real bounds of the concurrency integers", () => {
    const err = failWith({ max_concurrent_upgrades: 1.5, max_concurrent_starts: -1 });
    assertProblem(err, FILE, "$.max_concurrent_upgrades", ["an integer (values below 1 mean 1)"], 1.5);
    assertProblem(err, FILE, "$.max_concurrent_starts", ["an integer >= 0 (0 = one batch of all new allocations)"], -1);
  });

  it("reports an invalid, missing or non-object manifest", () => {
    b.write({ jobs: { api: {}, web: {}, db: {} } });
    writeFileSync(join(b.root, "workspace/jobs/api/manifest.json"), '{\n  "version": "1.0.0"\n  "selectors": []\n}');
    rmSync(join(b.root, "workspace/jobs/web/manifest.json"));
    writeFileSync(join(b.root, "workspace/jobs/db/manifest.json"), "[]");
    const err = b.fail();
    assertProblem(err, FILE, "line 3, column 3", ["invalid JSON", "expected valid JSON"]);
    assertProblem(err, "workspace/jobs/web/manifest.json", "$", ["is missing", "manifest.json"]);
    assertProblem(err, "workspace/jobs/db/manifest.json", "$", ["expected a manifest object"], []);
    assert.equal(err.problems.length, 3, err.message);
  });

  it("rejects bad job directory names, stray files and runtime dirs", () => {
    b.write({ jobs: { api: { files: { "data/x.db": "x", "logs/a.log": "x", "bin/tool": "x", "lib/bin/ok": "x" } } } });
    mkdirSync(join(b.root, "workspace/jobs/bad name"));
    writeFileSync(join(b.root, "workspace/jobs/README.md"), "hi");
    mkdirSync(join(b.root, "workspace/jobs/.git"));
    const err = b.fail();
    assertProblem(err, "workspace/jobs", "bad name/", ["not a valid job name"], "bad name");
    assertProblem(err, "workspace/jobs", "README.md", ["not a directory"]);
    for (const dir of ["data", "logs", "bin"]) {
      assertProblem(err, "workspace/jobs/api", `${dir}/`, ["runtime directory", "expected it not to exist"]);
    }
    assertOnly(err, [
      ["workspace/jobs", "bad name/"],
      ["workspace/jobs", "README.md"],
      ["workspace/jobs/api", "data/"],
      ["workspace/jobs/api", "logs/"],
      ["workspace/jobs/api", "bin/"],
    ]);
  });
});
