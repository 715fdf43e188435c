import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { symlinkSync } from "node:fs";
import { join } from "node:path";
import { makeBucket, writeWorkspace } from "../helpers/bucket.js";
import { openBucket } from "../../server/bucket/context.js";
import { maand, mustBuild } from "../build/fixture.js";
import { MAX_CELL_WIDTH, renderTable } from "../../cli/render/table.js";

/** What must never reach a terminal raw from a cat table: C0 (but the newlines between rows), DEL, C1, bidi overrides. */
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

describe("maand cat: wide and hostile values (real processes)", () => {
  let bucket: { root: string; cleanup(): void };
  const LONG_KEY = `k${"x".repeat(20_000)}`;
  before(async () => {
    bucket = await makeBucket();
    writeWorkspace(bucket.root, {
      workers: [{ host: "10.0.0.1", hostname: "evil\u001b[2J\u009b31m\rhost", tags: { zone: "a\u202eb" } }],
      jobs: { api: { manifest: { selectors: ["worker"] } } },
    });
    mustBuild(bucket.root);
    const ctx = openBucket(bucket.root);
    try {
      ctx.kv.put("vars/job/api", LONG_KEY, "v");
      ctx.kv.put("vars/job/api", "esc\u001b]0;pwned\u0007key", "value\u001b[31m red\r\nnext\u0000line\u0085");
      ctx.kv.put("vars/job/api", "wide", "y".repeat(5_000));
    } finally {
      ctx.close();
    }
  });
  after(() => bucket.cleanup());

  it("cat kv: a 20,000-character key is cut with an ellipsis; no row is padded to it", () => {
    const r = maand(bucket.root, "cat", "kv");
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trimEnd().split("\n");
    const row = lines.find((l) => l.includes("kxxx"))!;
    assert.match(row, new RegExp(`k${"x".repeat(MAX_CELL_WIDTH - 2)}… `));
    const longest = Math.max(...lines.map((l) => [...l].length));
    assert.ok(longest < 8 * MAX_CELL_WIDTH, `longest line ${longest} characters`);
    assert.match(lines.find((l) => l.includes("wide"))!, /\by{39}…/);
    const json = JSON.parse(maand(bucket.root, "cat", "kv", "--json").stdout) as Array<{ key: string; value: string }>;
    assert.ok(json.some((k) => k.key === LONG_KEY), "--json keeps the whole key");
    assert.ok(json.some((k) => k.value === "y".repeat(5_000)), "--json keeps the whole value");
  });

  it("cat kv and cat workers escape control characters in keys, values, hostnames and tags", () => {
    const kv = maand(bucket.root, "cat", "kv").stdout;
    assert.doesNotMatch(kv, RAW_CONTROL);
    assert.match(kv, /esc\\x1b\]0;pwned\\x07key\s+value\\x1b\[31m red\\r\\nnext\\x00line\\x85/);
    const workers = maand(bucket.root, "cat", "workers").stdout;
    assert.doesNotMatch(workers, RAW_CONTROL);
    assert.match(workers, /evil\\x1b\[2J\\x9b31m\\rhost/);
    assert.match(workers, /a\\u202eb/);
    const json = JSON.parse(maand(bucket.root, "cat", "workers", "--json").stdout) as Array<{ hostname: string }>;
    assert.equal(json[0]!.hostname, "evil\u001b[2J\u009b31m\rhost", "--json is exact (JSON-escaped)");
  });

  it("CLI errors quoting user input are escaped", () => {
    const r = maand(bucket.root, "cat", "kv", "--jobs", "no\u001b[2Jsuch\nfake line");
    assert.equal(r.status, 1);
    assert.doesNotMatch(r.stderr, RAW_CONTROL);
    assert.match(r.stderr, /^maand: --jobs no\\x1b\[2Jsuch\\nfake line: unknown job/);
    const hooks = maand(bucket.root, "hooks", "hook_\u001b[31mx", "api\u009b");
    assert.equal(hooks.status, 1);
    assert.match(hooks.stderr, /unknown job api\\x9b/);
    const unknownOption = maand(bucket.root, "cat", "kv", "--bogus\u001b[31m");
    assert.equal(unknownOption.status, 2);
    assert.match(unknownOption.stderr, /unknown option '--bogus\\x1b\[31m'/);
  });
});

describe("maand build: problems quoting file names and values are printed escaped (real process)", () => {
  let bucket: { root: string; cleanup(): void };
  before(async () => (bucket = await makeBucket()));
  after(() => bucket.cleanup());

  it("a file name with ESC and a value with a C1 control reach the terminal as escapes", () => {
    writeWorkspace(bucket.root, {
      workers: [{ host: "10.0.0.1", tags: { zone: 7 }, labels: ["bad\u009b31m"] }],
      jobs: { api: { manifest: { selectors: ["worker"], ["bogus\u001b"]: 1 } } },
    });
    symlinkSync("/nonexistent", join(bucket.root, "workspace/jobs/api/evil\u001b[2J\rname"));
    const r = maand(bucket.root, "build");
    assert.equal(r.status, 1, r.stderr);
    assert.doesNotMatch(r.stderr, RAW_CONTROL);
    assert.match(r.stderr, /workspace\/jobs\/api: evil\\x1b\[2J\\rname: is a dangling symlink/);
    assert.match(r.stderr, /labels\[0\]: "bad\\x9b31m" expected a label/);
    assert.match(r.stderr, /\$\["bogus\\u001b"\]: 1 unknown field/);
  });
});

describe("renderTable", () => {
  it("lays out 200,000 rows (no spread of every row into Math.max, which overflows the stack past ~120,000) and pads by characters", () => {
    const rows = Array.from({ length: 200_000 }, (_, i) => ({ a: `r${i}`, b: "é".repeat(i % 3) + "🎉", c: i }));
    const out = renderTable(rows, [{ field: "a" }, { field: "b" }, { field: "c" }]).split("\n");
    assert.equal(out.length, 200_001);
    assert.equal(out[1], `r0${" ".repeat(7)}🎉${" ".repeat(4)}0`);
    assert.equal(out[3], `r2${" ".repeat(7)}éé🎉${" ".repeat(2)}2`);
  });
});
