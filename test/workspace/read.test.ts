import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { workspaceBucket, HOOK_PY } from "./helpers.js";

const sha = (s: string) => createHash("sha256").update(s).digest("hex");

describe("readWorkspace: a good workspace", () => {
  let b: Awaited<ReturnType<typeof workspaceBucket>>;
  before(async () => {
    b = await workspaceBucket();
    b.write({
      workers: [
        { host: "10.0.0.1", labels: ["api", "db", "api"], hostname: "n1", memory: "8192 mb", cpu: "4000 mhz", tags: { zone: "a" } },
        { host: "10.0.0.2", labels: ["worker", "api"], memory: "2 GB", cpu: "2.5ghz" },
        { host: "node3.example.com", memory: 512 },
      ],
      bucketConf: 'env = "prod"\nreplicas = 3\ndebug = false\nstarted = 1979-05-27\nlist = [1, "a"]\n[nested]\nx = 1\n',
      bucketJobsConf: '[api]\nport = 8080\n[database]\nname = "main"\n',
      jobs: {
        database: {
          manifest: { version: "v2.1", selectors: ["db"], hooks: { hook_schema: { executed_on: ["post_build", "cli"] } } },
          files: { "_hooks/hook_schema.py": HOOK_PY, Makefile: "start:\n\ttrue\n" },
        },
        api: {
          manifest: {
            version: "3",
            selectors: ["api"],
            max_concurrent_upgrades: 0,
            max_concurrent_starts: 2,
            restart_policy: "reload",
            hooks: {
              hook_migrate: {
                executed_on: ["pre_deploy"],
                demands: { job: "database", hook: "hook_schema", config: { min_version: "2.0.0", max_version: "v2.9" } },
                timeout_seconds: 600,
              },
            },
            health_check: {
              checks: [
                { type: "tcp", port: 5432 },
                { type: "http", port: 8080 },
                { type: "ssh", command: "test -f /tmp/ready" },
              ],
              wait: { attempts: 30 },
            },
            certs: { server: { subject: { common_name: "api", organization: "acme" } } },
          },
          files: { "_hooks/hook_migrate.py": HOOK_PY, "run.sh": { content: "#!/bin/sh\n", mode: 0o755 } },
          vars: 'level = "info"\nthreads = 4\n',
        },
        web: {
          manifest: { version: "1.0.0", hooks: { hook_warm: { executed_on: ["post_deploy"], demands: { job: "api", hook: "hook_migrate" } } } },
          files: { "_hooks/hook_warm.ts": "console.log(1)\n" },
        },
      },
    });
  });
  after(() => b.cleanup());

  it("reads workers with labels, units and tags", () => {
    const ws = b.read();
    assert.deepEqual(ws.workers, [
      { host: "10.0.0.1", position: 0, labels: ["api", "db", "worker"], hostname: "n1", memoryMb: 8192, cpuMhz: 4000, tags: { zone: "a" } },
      { host: "10.0.0.2", position: 1, labels: ["worker", "api"], hostname: "", memoryMb: 2048, cpuMhz: 2500, tags: {} },
      { host: "node3.example.com", position: 2, labels: ["worker"], hostname: "", memoryMb: 512, cpuMhz: 0, tags: {} },
    ]);
  });

  it("reads jobs sorted by name with defaults, hooks and deployment_seq", () => {
    const ws = b.read();
    assert.deepEqual(ws.jobs.map((j) => [j.name, j.version, j.deploymentSeq]), [
      ["api", "3.0.0", 1],
      ["database", "2.1.0", 0],
      ["web", "1.0.0", 2],
    ]);
    const [api, database, web] = ws.jobs;
    assert.deepEqual(api.selectors, ["api"]);
    assert.equal(api.maxConcurrentUpgrades, 1, "values below 1 mean 1");
    assert.equal(api.maxConcurrentStarts, 2);
    assert.equal(api.restartPolicy, "reload");
    assert.deepEqual(api.hooks, [{
      name: "hook_migrate",
      script: "_hooks/hook_migrate.py",
      executedOn: ["pre_deploy"],
      timeoutSeconds: 600,
      demands: { job: "database", hook: "hook_schema", config: { min_version: "2.0.0", max_version: "2.9.0" } },
    }]);
    assert.deepEqual(api.healthCheck, {
      checks: [
        { type: "tcp", port: 5432 },
        { type: "http", port: 8080, path: "/", expect_status: 200, scheme: "http" },
        { type: "ssh", command: "test -f /tmp/ready" },
      ],
      timeoutSeconds: 5,
      wait: { attempts: 30, intervalSeconds: 1 },
    });
    assert.deepEqual(api.certs, [{ name: "server", subject: { common_name: "api", organization: "acme" }, pkcs8: false }]);
    assert.equal((api.manifest as { version: string }).version, "3", "manifest kept as parsed");

    assert.equal(database.maxConcurrentUpgrades, 1);
    assert.equal(database.maxConcurrentStarts, 0);
    assert.equal(database.restartPolicy, "always");
    assert.deepEqual(database.hooks[0].executedOn, ["post_build", "cli"]);
    assert.equal(database.hooks[0].timeoutSeconds, 3600);
    assert.equal(database.hooks[0].demands, undefined);
    assert.equal(database.healthCheck, undefined);
    assert.deepEqual(web.selectors, ["web"], "no selectors: the job name");
    assert.equal(web.hooks[0].script, "_hooks/hook_warm.ts");
    assert.deepEqual(web.hooks[0].demands, { job: "api", hook: "hook_migrate", config: {} });
  });

  it("indexes every job file with mode, hash and content", () => {
    const api = b.read().jobs[0];
    assert.deepEqual(api.files.map((f) => f.path), ["_hooks/hook_migrate.py", "manifest.json", "run.sh", "vars.toml"]);
    assert.equal(api.files[0].mode, 0o644);
    const run = api.files[2];
    assert.equal(run.mode, 0o755);
    assert.equal(run.content.toString(), "#!/bin/sh\n");
    assert.equal(run.hash, sha("#!/bin/sh\n"));
  });

  it("reads bucket, bucket-job and job vars as strings", () => {
    const ws = b.read();
    assert.deepEqual(ws.bucketVars, {
      env: "prod",
      replicas: "3",
      debug: "false",
      started: "1979-05-27",
      list: '[1,"a"]',
      nested: '{"x":1}',
    });
    assert.deepEqual(ws.bucketJobVars, { api: { port: "8080" }, database: { name: "main" }, web: {} });
    assert.deepEqual(ws.jobVars, { api: { level: "info", threads: "4" }, database: {}, web: {} });
    assert.deepEqual(ws.disabled, { jobs: {}, workers: [] });
  });

  it("uses bucket.jobs.<selector>.conf when job_config_selector is set, and tolerates its absence", () => {
    writeFileSync(join(b.root, "workspace", "bucket.jobs.staging.conf"), "[web]\nmode = \"staging\"\n");
    assert.deepEqual(b.read({ job_config_selector: "staging" }).bucketJobVars, { api: {}, database: {}, web: { mode: "staging" } });
    assert.deepEqual(b.read({ job_config_selector: "nope" }).bucketJobVars, { api: {}, database: {}, web: {} });
  });

  it("reads disabled.json", () => {
    writeFileSync(join(b.root, "workspace", "disabled.json"), JSON.stringify({ jobs: { api: {}, web: { allocations: ["10.0.0.2"] } }, workers: ["node3.example.com"] }));
    try {
      assert.deepEqual(b.read().disabled, { jobs: { api: "all", web: ["10.0.0.2"] }, workers: ["node3.example.com"] });
    } finally {
      writeFileSync(join(b.root, "workspace", "disabled.json"), "{}");
    }
  });
});
