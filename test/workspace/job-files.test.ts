import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Problems } from "../../server/workspace/problems.js";
import { readJobFiles } from "../../server/workspace/job-files.js";
import { workspaceBucket, assertProblem, writeManyFiles } from "./helpers.js";

function put(root: string, rel: string, content: string, mode = 0o644): void {
  const file = join(root, rel);
  mkdirSync(join(file, ".."), { recursive: true });
  writeFileSync(file, content);
  chmodSync(file, mode);
}

describe("job files walk", () => {
  let tmp: string;
  before(() => (tmp = mkdtempSync(join(tmpdir(), "maand-walk-"))));
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it("skips tool directories at any depth, keeps modes, sorts POSIX paths", () => {
    const job = join(tmp, "skips");
    put(job, "manifest.json", "{}");
    put(job, "run.sh", "#!/bin/sh\n", 0o755);
    put(job, "secret.conf", "k=v\n", 0o600);
    put(job, "_hooks/hook_a.py", "print(1)\n");
    put(job, "_hooks/.venv/bin/python3", "x");
    put(job, "_hooks/venv/lib/x.py", "x");
    put(job, "node_modules/a/index.js", "x");
    put(job, "lib/deep/node_modules/b.js", "x");
    put(job, "lib/__pycache__/m.cpython-311.pyc", "x");
    put(job, "lib/venvish/keep.txt", "kept");
    put(job, "lib/data/keep.txt", "nested runtime-named dirs are fine");
    put(job, "A.txt", "upper sorts first");
    const p = new Problems();
    const files = readJobFiles(p.in("workspace/jobs/skips"), job);
    assert.deepEqual(p.list, []);
    assert.deepEqual(files.map((f) => f.path), [
      "A.txt",
      "_hooks/hook_a.py",
      "lib/data/keep.txt",
      "lib/venvish/keep.txt",
      "manifest.json",
      "run.sh",
      "secret.conf",
    ]);
    const byPath = Object.fromEntries(files.map((f) => [f.path, f]));
    assert.equal(byPath["run.sh"].mode, 0o755);
    assert.equal(byPath["secret.conf"].mode, 0o600);
    assert.equal(byPath["_hooks/hook_a.py"].mode, 0o644);
    assert.equal(byPath["lib/venvish/keep.txt"].content.toString(), "kept");
    assert.equal(byPath["lib/venvish/keep.txt"].hash, createHash("sha256").update("kept").digest("hex"));
  });

  it("follows symlinks inside the job; reports links leaving it, dangling links and loops", () => {
    const job = join(tmp, "links");
    const shared = join(tmp, "shared");
    put(shared, "common.sh", "echo shared\n", 0o755);
    put(shared, "lib/util.py", "u = 1\n");
    put(job, "manifest.json", "{}");
    put(job, "lib/util.py", "inside\n", 0o600);
    symlinkSync(join(shared, "common.sh"), join(job, "common.sh"));
    symlinkSync(join(shared, "lib"), join(job, "shared-lib"));
    symlinkSync("manifest.json", join(job, "alias.json"));
    symlinkSync("lib", join(job, "lib-alias"));
    symlinkSync("missing.txt", join(job, "dangling.txt"));
    symlinkSync("ring-b", join(job, "ring-a"));
    symlinkSync("ring-a", join(job, "ring-b"));
    mkdirSync(join(job, "sub"));
    symlinkSync("..", join(job, "sub", "up"));
    symlinkSync("../../links/lib/util.py", join(job, "sub", "roundabout.py"));
    const p = new Problems();
    const files = readJobFiles(p.in("workspace/jobs/links"), job);
    assert.deepEqual(files.map((f) => [f.path, f.mode]), [
      ["alias.json", 0o644],
      ["lib-alias/util.py", 0o600],
      ["lib/util.py", 0o600],
      ["manifest.json", 0o644],
      ["sub/roundabout.py", 0o600],
    ]);
    assert.equal(files.find((f) => f.path === "lib-alias/util.py")!.content.toString(), "inside\n");
    assert.deepEqual(p.list.map((x) => [x.file, x.path]), [
      ["workspace/jobs/links", "common.sh"],
      ["workspace/jobs/links", "dangling.txt"],
      ["workspace/jobs/links", "ring-a"],
      ["workspace/jobs/links", "ring-b"],
      ["workspace/jobs/links", "shared-lib"],
      ["workspace/jobs/links", "sub/up"],
    ]);
    const says = Object.fromEntries(p.list.map((x) => [x.path, x.expected]));
    assert.match(says["common.sh"]!, new RegExp(`symlink to ${join(shared, "common.sh")} .*outside the job directory`));
    assert.match(says["shared-lib"]!, /outside the job directory/);
    assert.match(says["dangling.txt"]!, /dangling symlink \(-> missing\.txt\)/);
    assert.match(says["ring-a"]!, /symlink loop \(-> ring-b\)/);
    assert.match(says["sub/up"]!, /symlink loop/);
  });

  it("reports a file name that is not UTF-8 at its directory, with the bytes escaped (not as ENOENT)", () => {
    const job = join(tmp, "latin1");
    put(job, "manifest.json", "{}");
    mkdirSync(join(job, "docs"));
    writeFileSync(Buffer.concat([Buffer.from(join(job, "docs", "caf")), Buffer.from([0xe9, 0x1b]), Buffer.from(".txt")]), "x");
    const p = new Problems();
    const files = readJobFiles(p.in("workspace/jobs/latin1"), job);
    assert.deepEqual(files.map((f) => f.path), ["manifest.json"]);
    assert.equal(p.list.length, 1, JSON.stringify(p.list));
    assert.equal(p.list[0]!.path, "docs/");
    assert.match(p.list[0]!.expected, /holds a file name that is not valid UTF-8 \("caf\\xe9\\x1b\.txt"\); expected UTF-8 names/);
    assert.doesNotMatch(p.list[0]!.expected, /ENOENT/);
  });

  it("reads a job of 5,000 small files, every one in POSIX order with its hash", () => {
    // How fast this is measured by bench/workspace.ts, against a floor from the same run.
    const job = join(tmp, "many");
    writeManyFiles(job, 50, 100);
    const files = readJobFiles(new Problems().in("x"), job);
    assert.equal(files.length, 5000);
    const names = files.map((f) => f.path);
    assert.deepEqual(names, [...names].sort());
    assert.deepEqual([names[0], names[4999]], ["d0/f0.txt", "d9/f99.txt"]);
    const hashOf = (path: string) => files.find((f) => f.path === path)?.hash;
    assert.equal(hashOf("d49/f99.txt"), createHash("sha256").update("file 49\n").digest("hex"));
  });
});

describe("readWorkspace: job file problems", () => {
  let b: Awaited<ReturnType<typeof workspaceBucket>>;
  before(async () => (b = await workspaceBucket()));
  after(() => b.cleanup());

  it("reports a dangling symlink in a job and still indexes the rest", () => {
    b.write({ jobs: { api: { files: { "ok.txt": "ok" } } } });
    symlinkSync("/nonexistent/maand-target", join(b.root, "workspace/jobs/api/gone.txt"));
    const err = b.fail();
    assertProblem(err, "workspace/jobs/api", "gone.txt", ["dangling symlink", "/nonexistent/maand-target", "expected it to resolve to a file"]);
    assert.equal(err.problems.length, 1, err.message);
  });
});
