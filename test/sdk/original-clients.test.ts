import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { execa } from "execa";
import { makeBucket, writeWorkspace } from "../helpers/bucket.js";
import { maand } from "../helpers/cli.js";
import { openBucket } from "../../server/bucket/context.js";

/**
 * Hook scripts written for the original Go maand, run unchanged through `maand hooks` in
 * hook_api_auth = "headers" mode on port 8080 (the original clients' fixed port):
 *  - a raw client in the original's calling conventions (http.client, GET with a JSON body,
 *    empty-string fields, headers X-ALLOCATION-ID/COMMAND/EVENT, host from JOB_COMMAND_API_HOST);
 *  - a script using the original maand.py names against our generated maand.py, run by a
 *    Python that has the real `requests` (Debian's python3-requests), catching requests' HTTPError;
 *  - a Bun script using the original maand.ts names.
 * Each script asserts what the original answered and exits non-zero otherwise; the test then
 * checks that exactly the scripts' intended writes reached maand.db.
 */

const ORIGINAL_PORT = 8080;

const RAW_CLIENT = `import http.client, json, os, sys
HOST = os.environ.get("JOB_COMMAND_API_HOST", "0.0.0.0")
PORT = ${ORIGINAL_PORT}
HEADERS = {"X-ALLOCATION-ID": os.environ.get("ALLOCATION_ID"), "COMMAND": os.environ.get("COMMAND"), "EVENT": os.environ.get("EVENT")}

def call(method, path, body=None):
    conn = http.client.HTTPConnection(HOST, PORT)
    headers = dict(HEADERS)
    data = None
    if body is not None:
        data = json.dumps(body)
        headers["Content-Type"] = "application/json"
    conn.request(method, path, body=data, headers=headers)
    res = conn.getresponse()
    text = res.read().decode("utf-8")
    conn.close()
    return res.status, (json.loads(text) if text else None)

def expect(got, status, message=None):
    if got[0] != status or (message is not None and got[1].get("message") != message):
        sys.exit("expected %s %s, got %r" % (status, message, got))
    return got[1]
`;

const RAW_SCHEMA_HOOK = `${RAW_CLIENT}
assert os.environ["JOB_COMMAND_API_PORT"] == os.environ["HOOK_API_PORT"] == str(PORT), os.environ.get("JOB_COMMAND_API_PORT")
assert HOST == os.environ["HOOK_API_HOST"] == "127.0.0.1", HOST
me = os.environ["ALLOCATION_IP"]
other = "10.0.0.2" if me == "10.0.0.1" else "10.0.0.1"

# GET with a JSON body, and fields a route does not take (the original clients send them)
demands = expect(call("GET", "/demands", {"namespace": "", "key": ""}), 200)
assert [(d["job"], d["command"], d["hook"]) for d in demands] == [("api", "hook_migrate", "hook_migrate")], demands
assert demands[0]["demand_config"] == {"min_version": "1.0.0", "flag": "x", "schema": {"tables": ["t1"]}}, demands
keys = expect(call("GET", "/kv/keys", {"namespace": ""}), 200)["namespaces"]
# (the other allocation, running in parallel, may already have written its raw_<ip> key)
assert sorted(keys) == ["secrets/job/database", "vars/job/database"] and keys["secrets/job/database"] == [], keys
assert [k for k in keys["vars/job/database"] if not k.startswith("raw_")] == ["schema_version"], keys
value = expect(call("GET", "/kv", {"namespace": "vars/job/database", "key": "schema_version"}), 200)["value"]
assert value == "7", value

# least privilege, as the original: 400 and nothing written
DENIED = "Invalid or unauthorized namespace"
expect(call("GET", "/kv/keys", {"namespace": "vars/bucket"}), 400, DENIED)
expect(call("GET", "/kv/keys", {"namespace": "maand/job/database"}), 400, DENIED)
expect(call("GET", "/kv", {"namespace": "maand/worker/" + other, "key": "worker_ip"}), 400, DENIED)
expect(call("GET", "/kv", {"namespace": "maand/job/database/worker/" + other, "key": "version"}), 400, DENIED)
expect(call("GET", "/kv", {"namespace": "vars/bucket/job/api", "key": "replicas"}), 400, DENIED)
assert expect(call("GET", "/kv", {"namespace": "maand/worker/" + me, "key": "worker_ip"}), 200)["value"] == me
assert expect(call("GET", "/kv", {"namespace": "vars/bucket/job/database", "key": "pool"}), 200)["value"] == "4"

# a delete of a key that does not exist is the note's 404
expect(call("DELETE", "/kv", {"namespace": "vars/job/database", "key": "never_set"}), 404, "KV get operation failed")
expect(call("DELETE", "/kv/secret", {"namespace": "secrets/job/database", "key": "never_set"}), 404, "KV get operation failed")

# timeout_seconds 0 is the default wait, as the original's clients send it
sem = expect(call("POST", "/semaphore/acquire", {"name": "schema", "capacity": 1, "timeout_seconds": 0}), 200)
assert sem["acquired"] is True, sem
expect(call("POST", "/semaphore/release", {"name": "schema"}), 200)

# a write with a field the route does not take is accepted, the field ignored
expect(call("PUT", "/kv", {"namespace": "vars/job/database", "key": "raw_" + me, "value": value, "ttl": 0, "extra": True}), 200)
print("raw client ok on " + me)
`;

const SDK_MIGRATE_HOOK = `import sys
import requests
from requests.exceptions import HTTPError
from maand import (allocation_ip, command_event, command_name, delete_job_variable, find_bucket_root, get_command,
                   get_demands, get_event, get_kv_value, job_name, kv_get, list_command_demands, list_job_keys,
                   load_ssh, put_job_variable)

assert "requests" in sys.modules and requests.__version__, "the real requests is loaded"
assert command_event() == get_event() == "cli", command_event()
assert command_name() == get_command() == "hook_migrate", command_name()
me = allocation_ip()
other = "10.0.0.2" if me == "10.0.0.1" else "10.0.0.1"

# kv_get returns the response, as the original; an upstream read is allowed by the demand
schema = kv_get("vars/job/database", "schema_version").json()["value"]
assert schema == "7", schema

# get_kv_value raises on a missing key, as the original; requests' HTTPError catches it
try:
    get_kv_value("vars/job/" + job_name(), "never_written")
    sys.exit("get_kv_value must raise on a missing key")
except HTTPError as e:
    assert e.response.status_code == 404, e.response.status_code
    assert e.response.json()["message"] == "KV get operation failed"
    assert e.response.headers["content-type"].startswith("application/json")

try:
    kv_get("maand/worker/" + other, "worker_ip").raise_for_status()
    sys.exit("another worker's namespace must be refused")
except requests.exceptions.RequestException as e:
    assert e.response.status_code == 400 and e.response.json()["message"] == "Invalid or unauthorized namespace"

try:
    delete_job_variable("never_set").raise_for_status()
    sys.exit("deleting a missing key must be a 404")
except HTTPError as e:
    assert e.response.status_code == 404

keys = list_job_keys(namespace="vars/job/" + job_name()).json()["namespaces"]
assert list(keys) == ["vars/job/api"], keys
assert list_command_demands().json() == get_demands().json() == [], "nobody demands hook_migrate"

user, key_path, use_sudo = load_ssh()
assert str(key_path).startswith(str(find_bucket_root())), (key_path, find_bucket_root())
put_job_variable("migrated_" + me, schema).raise_for_status()
print("original maand.py names ok on " + me)
`;

const BUN_HOOK = `import { allocationIp, commandEvent, commandName, getCommand, getEvent, getKvValue, kvGet, listCommandDemands, putJobVariable } from "./maand";

if (commandEvent() !== "cli" || getEvent() !== "cli") throw new Error("commandEvent " + commandEvent());
if (commandName() !== "hook_bun" || getCommand() !== "hook_bun") throw new Error("commandName " + commandName());
const res = await kvGet("vars/job/database", "schema_version");
const schema = ((await res.json()) as { value: string }).value;
if (schema !== "7") throw new Error("schema " + schema);
const demands = await (await listCommandDemands()).json();
if (JSON.stringify(demands) !== "[]") throw new Error("demands " + JSON.stringify(demands));
let missing = "";
try {
  await getKvValue("vars/job/api", "never_written");
} catch (e) {
  missing = (e as Error).message;
}
// the note's message first, then the server's detail
if (!missing.startsWith("KV get operation failed: vars/job/api has no key never_written")) throw new Error("getKvValue must throw on a missing key: " + missing);
if ((await getKvValue("vars/job/api", "never_written", "fallback")) !== "fallback") throw new Error("fallback");
await putJobVariable("bun_" + allocationIp(), schema);
console.log("original maand.ts names ok on " + allocationIp());
`;

/** Debian's python3 with python3-requests (CI installs it); undefined with the reason otherwise. */
async function pythonWithRequests(): Promise<{ bin: string } | { skip: string }> {
  for (const bin of ["/usr/bin/python3"]) {
    const r = await execa(bin, ["-c", "import requests.exceptions"], { reject: false });
    if (r.exitCode === 0) return { bin };
  }
  return { skip: "no python3 with the requests package (Debian: apt-get install python3-requests)" };
}

async function portFree(port: number): Promise<boolean> {
  const srv = createServer();
  return new Promise((resolve) => {
    srv.once("error", () => resolve(false));
    srv.listen(port, "127.0.0.1", () => srv.close(() => resolve(true)));
  });
}

describe("hook scripts written for the original maand run unchanged (headers mode, port 8080)", async () => {
  const py = await pythonWithRequests();
  const free = await portFree(ORIGINAL_PORT);
  const skip = "skip" in py ? py.skip : !free ? `port ${ORIGINAL_PORT} is in use on 127.0.0.1` : undefined;
  if (skip && process.env.CI) throw new Error(`cannot run the original-client suite in CI: ${skip}`);
  let root = "";
  let cleanup = () => {};

  before(async () => {
    if (skip) return;
    const b = await makeBucket("maand-original-");
    root = b.root;
    cleanup = b.cleanup;
    const conf = join(root, "maand.conf");
    writeFileSync(
      conf,
      readFileSync(conf, "utf8")
        .replace(/^hook_api_port = .*$/m, `hook_api_port = ${ORIGINAL_PORT}`)
        .replace(/^hook_api_auth = .*$/m, 'hook_api_auth = "headers"'),
    );
    writeWorkspace(root, {
      workers: [
        { host: "10.0.0.1", labels: ["db", "app"] },
        { host: "10.0.0.2", labels: ["db", "app"] },
      ],
      bucketJobsConf: "[database]\npool = 4\n[api]\nreplicas = 2\n",
      // the drain flow: 10.0.0.9 was disabled, deployed, then removed from workers.json
      disabled: { workers: ["10.0.0.9"], jobs: { retired: {} } },
      jobs: {
        database: {
          manifest: { version: "2.0.0", selectors: ["db"], max_concurrent_upgrades: 2, hooks: { hook_schema: { executed_on: ["cli"] } } },
          vars: "schema_version = 7\n",
          files: { "_hooks/hook_schema.py": RAW_SCHEMA_HOOK },
        },
        api: {
          manifest: {
            version: "1.0.0",
            selectors: ["app"],
            max_concurrent_upgrades: 2,
            hooks: {
              hook_migrate: {
                executed_on: ["cli"],
                // free-form config: only min_version/max_version mean anything to maand
                demands: { job: "database", hook: "hook_schema", config: { min_version: "1.0", flag: "x", schema: { tables: ["t1"] } } },
              },
              hook_bun: { executed_on: ["cli"], demands: { job: "database", hook: "hook_other" } },
            },
          },
          files: {
            "_hooks/hook_migrate.py": SDK_MIGRATE_HOOK,
            "_hooks/hook_bun.ts": BUN_HOOK,
            // The original clients, as real workspaces carry them: staging replaces both.
            "_hooks/maand.py": 'raise SystemExit("the job\'s own (original) maand.py was staged instead of the generated one")\n',
            "_hooks/maand.ts": 'throw new Error("the job\'s own (original) maand.ts was staged instead of the generated one");\n',
          },
        },
      },
    });
    // hook_bun demands a second upstream hook, which database must define.
    writeFileSync(join(root, "workspace/jobs/database/_hooks/hook_other.py"), "print('other')\n");
    const manifest = JSON.parse(readFileSync(join(root, "workspace/jobs/database/manifest.json"), "utf8"));
    manifest.hooks.hook_other = { executed_on: ["pre_deploy"] };
    writeFileSync(join(root, "workspace/jobs/database/manifest.json"), JSON.stringify(manifest));
    // The job's venv interpreter (maand uses _hooks/.venv/bin/python3 first): one with requests.
    const venvBin = join(root, "workspace/jobs/api/_hooks/.venv/bin");
    mkdirSync(venvBin, { recursive: true });
    symlinkSync((py as { bin: string }).bin, join(venvBin, "python3"));
  });
  after(() => cleanup());

  it("build accepts a disabled.json naming a removed worker and job, with one warning each", { skip }, () => {
    const r = maand(root, "build");
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /^warning: workspace\/disabled\.json: \$\.workers\[0\]: "10\.0\.0\.9" is not a worker in workspace\/workers\.json \(ignored\)$/m);
    assert.match(r.stderr, /^warning: workspace\/disabled\.json: \$\.jobs\.retired: "retired" is not a job in workspace\/jobs\/ \(ignored\)$/m);
    assert.match(r.stdout, /build committed/);
  });

  it("a raw client in the original's calling conventions gets the original's answers", { skip }, () => {
    const r = maand(root, "hooks", "hook_schema", "database", "--verbose");
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /raw client ok on 10\.0\.0\.1/);
    assert.match(r.stdout, /raw client ok on 10\.0\.0\.2/);
  });

  it("scripts using the original maand.py (with requests) and maand.ts names run unchanged", { skip }, () => {
    for (const hook of ["hook_migrate", "hook_bun"]) {
      const r = maand(root, "hooks", hook, "api", "--verbose");
      assert.equal(r.status, 0, `${hook}\n${r.stdout}\n${r.stderr}`);
    }
  });

  it("exactly the scripts' intended writes reached maand.db; every refused request changed nothing", { skip }, () => {
    const ctx = openBucket(root, { readonly: true });
    try {
      const rows = ctx.db
        .prepare("SELECT namespace, key FROM kv WHERE namespace IN ('vars/job/api', 'vars/job/database', 'secrets/job/api', 'secrets/job/database') ORDER BY namespace, key")
        .all() as Array<{ namespace: string; key: string }>;
      assert.deepEqual(
        rows.map((r) => `${r.namespace} ${r.key}`),
        [
          "vars/job/api bun_10.0.0.1",
          "vars/job/api bun_10.0.0.2",
          "vars/job/api migrated_10.0.0.1",
          "vars/job/api migrated_10.0.0.2",
          "vars/job/database raw_10.0.0.1",
          "vars/job/database raw_10.0.0.2",
          "vars/job/database schema_version",
        ],
      );
      for (const ip of ["10.0.0.1", "10.0.0.2"]) assert.equal(ctx.kv.get("vars/job/api", `migrated_${ip}`), "7");
    } finally {
      ctx.close();
    }
    assert.ok(existsSync(join(root, "logs")));
  });
});
