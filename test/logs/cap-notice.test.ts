import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { MAX_LOG_BYTES_PER_INVOCATION } from "../../server/hooks/run-logs.js";
import { hookBucket, maand, workers, type HookBucket } from "../hooks/fixture.js";

/** A hook whose output hits the per-invocation log cap: the console says so, once per invocation. */

// 1.5 times the cap in 1 KiB lines, in several bursts so the cap is crossed mid-stream.
const FLOOD = `import sys
line = "x" * 1023 + "\\n"
for _ in range(${Math.ceil((1.5 * MAX_LOG_BYTES_PER_INVOCATION) / 1024 / 64)}):
    sys.stdout.write(line * 64)
print("last line")
`;
const NOTICE = / output beyond 8 MiB is not logged \(per-invocation log cap\); the last lines are still shown on failure$/;

describe("log cap notice (CLI, real processes)", () => {
  let b: HookBucket;
  before(async () => {
    b = await hookBucket();
    await b.build({
      workers: workers(3),
      jobs: {
        api: {
          manifest: { selectors: ["w"], max_concurrent_upgrades: 3, hooks: { hook_flood: { executed_on: ["cli"] }, hook_quiet: { executed_on: ["cli"] } } },
          files: { "_hooks/hook_flood.py": FLOOD, "_hooks/hook_quiet.py": 'print("quiet")\n' },
        },
      },
    });
  });
  after(() => b.cleanup());

  it("says so once for each invocation that hit it, naming the allocation", () => {
    const r = maand(b.root, "hooks", "hook_flood", "api", "--allocations", "10.0.0.1,10.0.0.3");
    assert.equal(r.status, 0, r.stderr);
    const notices = r.stdout.split("\n").filter((l) => NOTICE.test(l));
    assert.deepEqual(notices.map((n) => /^warning: (\S+ \S+ \S+):/.exec(n)?.[1]).sort(), ["10.0.0.1 api hook_flood", "10.0.0.3 api hook_flood"]);
  });

  it("with --json the notice goes to stderr and stdout stays one JSON document", () => {
    const r = maand(b.root, "hooks", "hook_flood", "api", "--allocations", "10.0.0.2", "--json");
    assert.equal(r.status, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).status, "ok");
    assert.equal(r.stderr.split("\n").filter((l) => NOTICE.test(l) && l.startsWith("warning: 10.0.0.2 api hook_flood:")).length, 1);
  });

  it("an invocation under the cap gets no notice", () => {
    const r = maand(b.root, "hooks", "hook_quiet", "api");
    assert.equal(r.status, 0, r.stderr);
    assert.doesNotMatch(r.stdout + r.stderr, /not logged/);
  });
});
