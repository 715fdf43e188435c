import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { OUTPUTS, repoRoot } from "../../codegen/paths.js";

/** `maand openapi`: the committed contract, for external tools, without a bucket. */
describe("maand openapi", () => {
  const ROOT = repoRoot();
  const maand = join(ROOT, "bin", "maand.js");
  const committed = readFileSync(join(ROOT, OUTPUTS.openapi), "utf8");
  const dir = mkdtempSync(join(tmpdir(), "maand-openapi-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("prints the document, byte for byte the committed openapi.json, outside any bucket", async () => {
    const r = await execa(process.execPath, [maand, "--bucket", join(dir, "no-bucket-here"), "openapi"], { cwd: dir, reject: false });
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(`${r.stdout}\n`, committed);
  });

  it("--output FILE writes it", async () => {
    const out = join(dir, "api.json");
    const r = await execa(process.execPath, [maand, "openapi", "--output", out], { cwd: dir, reject: false });
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(readFileSync(out, "utf8"), committed);
    assert.equal(r.stdout, "");
  });

  it("an unwritable --output is a clear error (exit 1, nothing on stdout)", async () => {
    const r = await execa(process.execPath, [maand, "openapi", "--output", join(dir, "missing-dir", "api.json")], { cwd: dir, reject: false });
    assert.equal(r.exitCode, 1);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /^maand: cannot write .*missing-dir\/api\.json: ENOENT$/);
  });
});
