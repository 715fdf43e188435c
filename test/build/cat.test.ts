import { after, before, describe, it } from "node:test";
import { SCHEMA_VERSION } from "../../server/store/db.js";
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeBucket, writeWorkspace } from "../helpers/bucket.js";
import { openBucket } from "../../server/bucket/context.js";
import { dumpCatalog, maand, threeByThree, mustBuild } from "./fixture.js";

const SECRET = "pa55-w0rd-plaintext";

describe("maand cat / info / gc (real processes)", () => {
  let bucket: { root: string; cleanup(): void };
  const json = (...args: string[]) => {
    const r = maand(bucket.root, "cat", ...args, "--json");
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout) as Record<string, unknown>[];
  };

  before(async () => {
    bucket = await makeBucket();
    writeWorkspace(bucket.root, threeByThree());
    mustBuild(bucket.root);
    const ctx = openBucket(bucket.root);
    try {
      ctx.kv.put("secrets/job/api", "password", SECRET);
    } finally {
      ctx.close();
    }
  });
  after(() => bucket.cleanup());

  it("--json prints arrays of objects keyed by the catalog's column names", () => {
    const keys = (rows: Record<string, unknown>[]) => Object.keys(rows[0]!).sort();
    const workers = json("workers");
    assert.equal(workers.length, 3);
    assert.deepEqual(keys(workers), ["cpu_mhz", "hostname", "labels", "memory_mb", "position", "tags", "worker_id", "worker_ip"]);
    const jobs = json("jobs");
    assert.deepEqual(jobs.map((j) => [j.name, j.deployment_seq]), [["api", 0], ["db", 0], ["cache", 1]]);
    for (const col of ["job_id", "name", "version", "selectors", "deployment_seq", "max_concurrent_upgrades", "max_concurrent_starts", "restart_policy"]) {
      assert.ok(col in jobs[0]!, col);
    }
    const allocs = json("allocations");
    assert.equal(allocs.length, 5);
    for (const col of ["alloc_id", "job", "worker_ip", "disabled", "removed", "deployment_seq"]) assert.ok(col in allocs[0]!, col);
    assert.deepEqual(keys(json("hooks")), ["demand_config", "demand_hook", "demand_job", "event", "hook", "job", "script", "timeout_seconds"]);
    const kv = json("kv");
    for (const col of ["namespace", "key", "value", "version", "ttl", "created_at", "deleted"]) assert.ok(col in kv[0]!, col);
  });

  it("allocation and kv filters", () => {
    assert.deepEqual(json("allocations", "--jobs", "api,cache").map((a) => `${a.job}|${a.worker_ip}`), ["api|10.0.0.1", "api|10.0.0.2", "cache|10.0.0.3"]);
    assert.deepEqual(json("allocations", "--workers", "10.0.0.2").map((a) => a.job), ["api", "db"]);
    assert.deepEqual(json("allocations", "--jobs", "db", "--workers", "10.0.0.3").map((a) => a.worker_ip), ["10.0.0.3"]);
    const kvDb = json("kv", "--jobs", "db");
    assert.deepEqual([...new Set(kvDb.map((r) => r.namespace))], ["maand/job/db", "maand/job/db/worker/10.0.0.2", "maand/job/db/worker/10.0.0.3"]);
    const kvW = json("kv", "--workers", "10.0.0.1");
    assert.deepEqual([...new Set(kvW.map((r) => r.namespace))], ["maand/job/api/worker/10.0.0.1", "maand/worker/10.0.0.1", "maand/worker/10.0.0.1/tags"]);
  });

  it("a filter naming an unknown job or worker is an error listing the known ones; an empty list is a usage error", () => {
    const cases: Array<[string[], number, RegExp]> = [
      [["allocations", "--jobs", "api,nosuch"], 1, /^maand: --jobs nosuch: unknown job \(known: api, cache, db\)\n$/],
      [["allocations", "--workers", "10.9.9.9"], 1, /^maand: --workers 10\.9\.9\.9: unknown worker \(known: 10\.0\.0\.1, 10\.0\.0\.2, 10\.0\.0\.3\)\n$/],
      [["kv", "--jobs", "nosuch"], 1, /^maand: --jobs nosuch: unknown job \(known: api, cache, db\)\n$/],
      [["kv", "--workers", "10.9.9.9,10.9.9.8"], 1, /^maand: --workers 10\.9\.9\.9,10\.9\.9\.8: unknown workers/],
      [["allocations", "--jobs", ""], 2, /^maand: --jobs "": expected a comma-separated list of names/],
      [["kv", "--workers", "10.0.0.1,"], 2, /^maand: --workers "10\.0\.0\.1,": expected a comma-separated list of names/],
    ];
    for (const [args, status, message] of cases) {
      const r = maand(bucket.root, "cat", ...args);
      assert.equal(r.status, status, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, message, args.join(" "));
      assert.equal(r.stdout, "", "no table for a bad filter");
    }
  });

  it("cat kv --active hides tombstones", async () => {
    const ctx = openBucket(bucket.root);
    try {
      ctx.kv.put("vars/job/db", "gone", "1");
      ctx.kv.delete("vars/job/db", "gone");
    } finally {
      ctx.close();
    }
    const all = json("kv", "--jobs", "db").filter((r) => r.namespace === "vars/job/db");
    assert.deepEqual(all.map((r) => [r.key, r.deleted, r.version]), [["gone", 1, 2]]);
    assert.deepEqual(json("kv", "--jobs", "db", "--active").filter((r) => r.namespace === "vars/job/db"), []);
  });

  it("cat kv never prints a secret or a private key; the table truncates long values", () => {
    const human = maand(bucket.root, "cat", "kv");
    const asJson = maand(bucket.root, "cat", "kv", "--json");
    for (const out of [human.stdout, asJson.stdout]) {
      assert.ok(!out.includes(SECRET), "no plaintext secret");
      assert.ok(!out.includes("PRIVATE KEY"), "no private key");
      assert.match(out, /<encrypted>/);
      assert.match(out, /<private key>/);
    }
    const line = human.stdout.split("\n").find((l) => l.includes("certs/ca.crt"))!;
    assert.match(line, /-----BEGIN CERTIFICATE-----\\nMIIB\S*…/);
    assert.ok(!line.includes("END CERTIFICATE"));
    const header = human.stdout.split("\n")[0]!;
    assert.match(header, /^namespace\s+key\s+value\s+version\s+ttl\s+created_at\s+deleted/);
  });

  it("kv get: bare value; secrets refused without --reveal; --reveal prints; a missing key exits 1", () => {
    const plain = maand(bucket.root, "cat", "kv", "get", "vars/job/api", "port");
    assert.deepEqual([plain.status, plain.stdout], [0, "8080\n"]);
    const refused = maand(bucket.root, "cat", "kv", "get", "secrets/job/api", "password");
    assert.equal(refused.status, 1);
    assert.equal(refused.stdout, "");
    assert.match(refused.stderr, /--reveal/);
    assert.ok(!refused.stderr.includes(SECRET));
    const revealed = maand(bucket.root, "cat", "kv", "get", "--reveal", "secrets/job/api", "password");
    assert.deepEqual([revealed.status, revealed.stdout], [0, `${SECRET}\n`]);
    const keyRefused = maand(bucket.root, "cat", "kv", "get", "maand/job/api/worker/10.0.0.1", "certs/server.key");
    assert.equal(keyRefused.status, 1);
    assert.match(keyRefused.stderr, /--reveal/);
    const missing = maand(bucket.root, "cat", "kv", "get", "vars/job/api", "nope");
    assert.equal(missing.status, 1);
    assert.equal(missing.stdout, "");
    assert.match(missing.stderr, /no key "nope" in KV namespace "vars\/job\/api"/);
  });

  it("human tables are aligned", () => {
    const out = maand(bucket.root, "cat", "allocations").stdout.trimEnd().split("\n");
    assert.equal(out.length, 6);
    const col = out[0]!.indexOf("worker_ip");
    for (const l of out.slice(1)) assert.match(l.slice(col), /^10\.0\.0\.\d/);
  });

  it("info: bucket id, paths, counts and schema version", () => {
    const r = maand(bucket.root, "info", "--json");
    assert.equal(r.status, 0, r.stderr);
    const info = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.match(String(info.bucket_id), /^[0-9a-f-]{36}$/);
    assert.equal(info.root, bucket.root);
    assert.equal(info.schema_version, SCHEMA_VERSION);
    assert.equal(info.workers, 3);
    assert.equal(info.jobs, 3);
    assert.deepEqual(info.allocations, { total: 5, active: 5, disabled: 0, removed: 0 });
    const human = maand(bucket.root, "info").stdout;
    assert.match(human, /allocations\s+5 \(active 5, disabled 0, removed 0\)/);
  });

  it("gc rejects a bad --retain-days with exit 2 and changes nothing", () => {
    const db = join(bucket.root, "data", "maand.db");
    const before = dumpCatalog(db);
    for (const bad of ["-1", "abc", "1.5", "", "7d"]) {
      const r = maand(bucket.root, "gc", "--retain-days", bad);
      assert.equal(r.status, 2, `--retain-days ${bad}: ${r.stderr}`);
      assert.match(r.stderr, /--retain-days .*expected a non-negative integer/);
    }
    assert.deepEqual(dumpCatalog(db), before);
  });

  it("gc purges removed allocations and old tombstones and prints the counts", () => {
    const ws = threeByThree();
    ws.workers = ws.workers!.slice(0, 2); // 10.0.0.3 leaves: db and cache allocations there are removed
    delete ws.jobs!.cache;
    writeWorkspace(bucket.root, ws);
    mustBuild(bucket.root);
    assert.equal(json("allocations").filter((a) => a.removed === 1).length, 2);
    const r = maand(bucket.root, "gc", "--retain-days", "0");
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /removed allocations purged\s+2 \(hash rows 2, KV rows \d+\)/);
    assert.match(r.stdout, /tombstoned KV rows purged\s+[1-9]/);
    assert.equal(json("allocations").length, 3);
    // Nothing of 10.0.0.3 is left: not even a KV namespace names it any more.
    assert.match(maand(bucket.root, "cat", "kv", "--workers", "10.0.0.3").stderr, /--workers 10\.0\.0\.3: unknown worker/);
    assert.equal(json("kv").filter((k) => k.deleted === 1).length, 0, "retain 0: every tombstone is gone");
  });
});
