import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { maand } from "../helpers/cli.js";

describe("every command outside a bucket: one line, exit 2, nothing created", () => {
  const commands = [["build"], ["cat", "workers"], ["cat", "jobs"], ["cat", "allocations"], ["cat", "hooks"], ["cat", "kv"], ["cat", "kv", "get", "vars/bucket", "env"], ["gc"], ["hooks", "hook_x"], ["hooks", "hook_x", "--dry-run"], ["info"], ["logs", "show"], ["job", "create", "api"]];
  it(commands.map((c) => c.join(" ")).join(", "), () => {
    const dir = mkdtempSync(join(tmpdir(), "maand-nobucket-"));
    try {
      for (const args of [...commands]) {
        const r = maand(dir, ...args);
        assert.equal(r.status, 2, `${args.join(" ")}: ${r.stderr}`);
        assert.match(r.stderr, /^maand: .* is not a maand bucket .*run 'maand init' there or pass --bucket DIR\n$/, args.join(" "));
        assert.equal(r.stdout, "");
      }
      assert.deepEqual(readdirSync(dir), [], "nothing was created in the directory");
      assert.equal(maand(join(dir, "missing"), "info").status, 2);
      assert.ok(!existsSync(join(dir, "missing")));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
