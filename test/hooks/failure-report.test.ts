import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { hookBucket, maand, workers, type HookBucket } from "./fixture.js";

/**
 * A failed hook's report shows what the operator needs: the exception's message (also when a
 * deep stack trace follows it, as Bun prints it) and the workspace file to edit, not maand's
 * staged copy under tmp/.
 */
const DEEP_BUN = `function down(n: number): void {
  if (n === 0) throw new Error("the schema is missing");
  down(n - 1);
}
down(40);
`;
const PY = `def down(n):
    if n == 0:
        raise ValueError("the schema is missing")
    down(n - 1)
down(40)
`;

describe("hook failure reports", () => {
  let b: HookBucket;
  before(async () => {
    b = await hookBucket();
    await b.build({
      workers: workers(1),
      jobs: {
        api: {
          manifest: { version: "1.0.0", selectors: ["w"], hooks: { hook_bun: { executed_on: ["cli"] }, hook_py: { executed_on: ["cli"] } } },
          files: { "_hooks/hook_bun.ts": DEEP_BUN, "_hooks/hook_py.py": PY },
        },
      },
    });
  });
  after(() => b.cleanup());

  for (const [hook, file, message] of [
    ["hook_bun", "hook_bun.ts", /^ +\| error: the schema is missing$/m],
    ["hook_py", "hook_py.py", /^ +\| ValueError: the schema is missing$/m],
  ] as const) {
    it(`${hook}: the exception's message line and the workspace path, not the staged one`, () => {
      const r = maand(b.root, "hooks", hook, "api");
      assert.equal(r.status, 3, r.stdout);
      const report = r.stderr;
      assert.match(report, message);
      assert.match(report, new RegExp(`workspace/jobs/api/_hooks/${file.replace(".", "\\.")}`));
      assert.doesNotMatch(report, /tmp\/workers\//, "no staged path in the report");
      assert.doesNotMatch(report, /Bun v\d/, "no runtime footer");
    });
  }
});
