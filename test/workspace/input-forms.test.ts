import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { canonicalHost, hostKey } from "../../server/workspace/hosts.js";
import { workspaceBucket, assertProblem, HOOK_PY } from "./helpers.js";
import { dumpCatalog, openTestBucket, threeByThree } from "../build/fixture.js";
import { runBuild } from "../../server/build/run.js";
import { WorkspaceValidationError } from "../../server/workspace/errors.js";
import { writeWorkspace } from "../helpers/bucket.js";

const BOM = "\uFEFF";

describe("IPv6 hosts are one host in any spelling", () => {
  it("canonicalHost: RFC 5952 form (lower case, no leading zeros, longest zero run as ::, IPv4-mapped dotted, zone kept)", () => {
    const cases: Array<[string, string]> = [
      ["::1", "::1"],
      ["0:0:0:0:0:0:0:1", "::1"],
      ["0000::0001", "::1"],
      ["2001:DB8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
      ["2001:0db8:0000:0000:0000:ff00:0042:8329", "2001:db8::ff00:42:8329"],
      ["1:0:0:2:0:0:0:3", "1:0:0:2::3"],
      ["1:0:0:2:3:0:0:4", "1::2:3:0:0:4"],
      ["1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"],
      ["1:0:3:4:5:6:7:8", "1:0:3:4:5:6:7:8"],
      ["::ffff:0102:0304", "::ffff:1.2.3.4"],
      ["::FFFF:1.2.3.4", "::ffff:1.2.3.4"],
      ["fe80::0001%eth0", "fe80::1%eth0"],
      ["10.0.0.1", "10.0.0.1"],
      ["Node1.Example.com", "Node1.Example.com"],
    ];
    for (const [given, want] of cases) assert.equal(canonicalHost(given), want, given);
    assert.equal(hostKey("Node1.Example.com."), "node1.example.com");
  });

  describe("workers.json and disabled.json", () => {
    let b: Awaited<ReturnType<typeof workspaceBucket>>;
    before(async () => (b = await workspaceBucket()));
    after(() => b.cleanup());

    it("::1 and 0:0:0:0:0:0:0:1 (and a DNS name in two cases) are duplicates", () => {
      b.write({ workers: [{ host: "::1" }, { host: "0:0:0:0:0:0:0:1" }, { host: "db.example.com" }, { host: "DB.example.com." }] });
      const err = b.fail();
      assertProblem(err, "workspace/workers.json", "$[1].host", ["duplicates $[0].host", "unique"], "0:0:0:0:0:0:0:1");
      assertProblem(err, "workspace/workers.json", "$[3].host", ["duplicates $[2].host"], "DB.example.com.");
      assert.equal(err.problems.length, 2, err.message);
    });

    it("stores the canonical form and lets disabled.json name a worker in any spelling", () => {
      b.write({
        workers: [{ host: "2001:DB8:0:0:0:0:0:0001", labels: ["w"] }, { host: "10.0.0.1" }],
        disabled: { workers: ["2001:db8::0:1"], jobs: { api: { allocations: ["2001:0db8::1"] } } },
        jobs: { api: { manifest: { selectors: ["w"], hooks: { hook_x: { executed_on: ["cli"] } } }, files: { "_hooks/hook_x.py": HOOK_PY } } },
      });
      const ws = b.read();
      assert.deepEqual(ws.workers.map((w) => w.host), ["2001:db8::1", "10.0.0.1"]);
      assert.deepEqual(ws.disabled, { workers: ["2001:db8::1"], jobs: { api: ["2001:db8::1"] } });
    });
  });

  it("a build with a second spelling of a built worker's address fails and changes nothing", async () => {
    const ws = threeByThree();
    ws.workers!.push({ host: "fd00::a", labels: ["api"] });
    const b = await openTestBucket(undefined, ws);
    try {
      await runBuild(b.ctx);
      const ips = (b.ctx.db.prepare("SELECT worker_ip FROM workers ORDER BY position").all() as Array<{ worker_ip: string }>).map((r) => r.worker_ip);
      assert.deepEqual(ips, ["10.0.0.1", "10.0.0.2", "10.0.0.3", "fd00::a"]);
      const built = dumpCatalog(join(b.root, "data", "maand.db"));
      ws.workers!.push({ host: "FD00:0:0:0:0:0:0:A" });
      writeWorkspace(b.root, ws);
      await assert.rejects(runBuild(b.ctx), (e: unknown) => e instanceof WorkspaceValidationError && /\$\[4\]\.host: "FD00:0:0:0:0:0:0:A" duplicates \$\[3\]\.host/.test(e.message));
      assert.deepEqual(dumpCatalog(join(b.root, "data", "maand.db")), built);
    } finally {
      b.cleanup();
    }
  });
});

describe("a UTF-8 BOM at the start of a JSON file is accepted", () => {
  let b: Awaited<ReturnType<typeof workspaceBucket>>;
  before(async () => (b = await workspaceBucket()));
  after(() => b.cleanup());
  const ws = (root: string) => join(root, "workspace");

  it("in workers.json, disabled.json and manifest.json", () => {
    b.write({ jobs: { api: { files: { "_hooks/hook_x.py": HOOK_PY } } } });
    writeFileSync(join(ws(b.root), "workers.json"), `${BOM}[{"host": "10.0.0.1", "labels": ["api"]}]\n`);
    writeFileSync(join(ws(b.root), "disabled.json"), `${BOM}{"workers": ["10.0.0.1"]}`);
    writeFileSync(join(ws(b.root), "jobs", "api", "manifest.json"), `${BOM}{"version": "1.2.3", "hooks": {"hook_x": {"executed_on": ["cli"]}}}`);
    const read = b.read();
    assert.deepEqual(read.workers.map((w) => w.host), ["10.0.0.1"]);
    assert.deepEqual(read.disabled.workers, ["10.0.0.1"]);
    assert.equal(read.jobs[0]!.version, "1.2.3");
  });

  it("a syntax error after a BOM is reported at the line and column an editor shows", () => {
    b.write({});
    writeFileSync(join(ws(b.root), "workers.json"), `${BOM}[\n  {"host": "10.0.0.1",}\n]\n`);
    assertProblem(b.fail(), "workspace/workers.json", "line 2, column 23", ["invalid JSON"]);
    writeFileSync(join(ws(b.root), "workers.json"), `${BOM}{"a" 1}`);
    assertProblem(b.fail(), "workspace/workers.json", "line 1, column 6", ["invalid JSON", "Expected ':'"]);
  });
});

describe("names that are not UTF-8", () => {
  let b: Awaited<ReturnType<typeof workspaceBucket>>;
  before(async () => (b = await workspaceBucket()));
  after(() => b.cleanup());

  it("a job directory or job file name that is not UTF-8 is reported with its bytes escaped, not as ENOENT", () => {
    b.write({ jobs: { api: { files: { "ok.txt": "ok" } } } });
    const jobs = join(b.root, "workspace", "jobs");
    mkdirSync(Buffer.concat([Buffer.from(`${jobs}/caf`), Buffer.from([0xe9])]));
    writeFileSync(Buffer.concat([Buffer.from(`${jobs}/api/r`), Buffer.from([0xe9, 0x73, 0x75, 0x6d, 0xe9]), Buffer.from(".txt")]), "x");
    const err = b.fail();
    assertProblem(err, "workspace/jobs", ".", ['holds a name that is not valid UTF-8 ("caf\\xe9")']);
    assertProblem(err, "workspace/jobs/api", ".", ['holds a file name that is not valid UTF-8 ("r\\xe9sum\\xe9.txt")', "rename it"]);
    assert.doesNotMatch(err.message, /ENOENT|\uFFFD/);
    assert.equal(err.problems.length, 2, err.message);
  });
});
