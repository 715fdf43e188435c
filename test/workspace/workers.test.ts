import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { workspaceBucket, assertProblem, assertOnly } from "./helpers.js";

const FILE = "workspace/workers.json";

describe("readWorkspace: workers.json", () => {
  let b: Awaited<ReturnType<typeof workspaceBucket>>;
  before(async () => (b = await workspaceBucket()));
  after(() => b.cleanup());

  const failWith = (workers: unknown) => {
    b.write({ workers: workers as unknown[] });
    return b.fail();
  };

  it("rejects a document that is not an array", () => {
    const err = failWith({ host: "10.0.0.1" });
    assertProblem(err, FILE, "$", ["expected a JSON array"], { host: "10.0.0.1" });
  });

  it("reports invalid JSON with line and column", () => {
    b.write({});
    writeFileSync(join(b.root, "workspace", "workers.json"), '[\n  {"host": "10.0.0.1",}\n]\n');
    const err = b.fail();
    assertProblem(err, FILE, "line 2, column 23", ["invalid JSON", "expected valid JSON"]);
  });

  it("requires workers.json to exist", () => {
    b.write({});
    rmSync(join(b.root, "workspace", "workers.json"));
    assertProblem(b.fail(), FILE, "$", ["is missing", "JSON array"]);
  });

  it("rejects non-object elements", () => {
    assertProblem(failWith(["10.0.0.1"]), FILE, "$[0]", ["expected a worker object"], "10.0.0.1");
  });

  it("requires a host and rejects bad or duplicate hosts", () => {
    const err = failWith([
      { labels: ["a"] },
      { host: "" },
      { host: "10.0.0.256" },
      { host: "bad host!" },
      { host: "10.0.0.1" },
      { host: "::1" },
      { host: "db-1.example.com" },
      { host: "10.0.0.1" },
      { host: 42 },
    ]);
    assertProblem(err, FILE, "$[0].host", ["is missing", "host"]);
    assertProblem(err, FILE, "$[1].host", ["IPv4 or IPv6 address or a DNS name"], "");
    assertProblem(err, FILE, "$[2].host", ["IPv4 or IPv6 address or a DNS name"], "10.0.0.256");
    assertProblem(err, FILE, "$[3].host", ["IPv4 or IPv6 address or a DNS name"], "bad host!");
    assertProblem(err, FILE, "$[7].host", ["duplicates $[4].host", "unique"], "10.0.0.1");
    assertProblem(err, FILE, "$[8].host", ["expected a host"], 42);
    assert.equal(err.problems.length, 6, err.message);
  });

  it("rejects bad labels", () => {
    const err = failWith([
      { host: "10.0.0.1", labels: "api" },
      { host: "10.0.0.2", labels: ["ok", "has space", 7, "-dash", ""] },
    ]);
    assertProblem(err, FILE, "$[0].labels", ["expected an array of labels"], "api");
    assertProblem(err, FILE, "$[1].labels[1]", ["expected a label"], "has space");
    assertProblem(err, FILE, "$[1].labels[2]", ["expected a label"], 7);
    assertProblem(err, FILE, "$[1].labels[3]", ["expected a label"], "-dash");
    assertProblem(err, FILE, "$[1].labels[4]", ["expected a label"], "");
    assert.equal(err.problems.length, 5, err.message);
  });

  it("rejects bad memory and cpu units", () => {
    const err = failWith([
      { host: "10.0.0.1", memory: "12 parsecs", cpu: "4000 hz" },
      { host: "10.0.0.2", memory: -5, cpu: true },
      { host: "10.0.0.3", memory: "", cpu: "fast" },
    ]);
    assertProblem(err, FILE, "$[0].memory", ["memory size", "kb, mb, gb, tb"], "12 parsecs");
    assertProblem(err, FILE, "$[0].cpu", ["CPU speed", "mhz, ghz"], "4000 hz");
    assertProblem(err, FILE, "$[1].memory", ["memory size"], -5);
    assertProblem(err, FILE, "$[1].cpu", ["CPU speed"], true);
    assertProblem(err, FILE, "$[2].memory", ["memory size"], "");
    assertProblem(err, FILE, "$[2].cpu", ["CPU speed"], "fast");
    assert.equal(err.problems.length, 6, err.message);
  });

  it("accepts unit spellings", () => {
    b.write({ workers: [{ host: "10.0.0.1", memory: "1TB", cpu: "3 GHz" }, { host: "10.0.0.2", memory: "2048 KB", cpu: 1200 }, { host: "10.0.0.3", memory: "1.5gb" }] });
    assert.deepEqual(b.read().workers.map((w) => [w.memoryMb, w.cpuMhz]), [[1048576, 3000], [2, 1200], [1536, 0]]);
  });

  it("rejects tags that are not strings and hostnames that are not strings", () => {
    const err = failWith([
      { host: "10.0.0.1", tags: { zone: "a", rack: 3, ok: "y" } },
      { host: "10.0.0.2", tags: ["zone"] },
      { host: "10.0.0.3", hostname: 5 },
    ]);
    assertProblem(err, FILE, "$[0].tags.rack", ["expected a string tag value"], 3);
    assertProblem(err, FILE, "$[1].tags", ["object of string tags"], ["zone"]);
    assertProblem(err, FILE, "$[2].hostname", ["expected a string"], 5);
    assert.equal(err.problems.length, 3, err.message);
  });

  it("keeps a __proto__ tag as a plain tag", () => {
    b.write({});
    writeFileSync(join(b.root, "workspace", "workers.json"), '[{"host": "10.0.0.1", "tags": {"__proto__": "x", "zone": "a"}}]');
    const [w] = b.read().workers;
    assert.deepEqual(Object.entries(w.tags), [["__proto__", "x"], ["zone", "a"]]);
    assert.equal(Object.getPrototypeOf(w.tags), Object.prototype);
  });

  it("reports unknown fields with a hint", () => {
    const err = failWith([{ host: "10.0.0.1", lables: ["api"], "zone id": "a" }]);
    assertProblem(err, FILE, "$[0].lables", ['unknown field "lables"', 'did you mean "labels"', "expected one of host, labels"], ["api"]);
    assertProblem(err, FILE, '$[0]["zone id"]', ['unknown field "zone id"'], "a");
    assertOnly(err, [[FILE, "$[0].lables"], [FILE, '$[0]["zone id"]']]);
  });
});
