import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { linkSync, readFileSync, rmSync, symlinkSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { writeWorkspace } from "../helpers/bucket.js";
import { runBuild } from "../../server/build/run.js";
import { WorkspaceValidationError } from "../../server/workspace/errors.js";
import { MAX_JOB_FILE_BYTES } from "../../server/workspace/job-file-read.js";
import { dumpCatalog, openTestBucket, threeByThree, type OpenTestBucket } from "./fixture.js";

/** The whole catalog file set as bytes: what a copied maand.db would give away. */
function catalogBytes(root: string): Buffer {
  const db = join(root, "data", "maand.db");
  return Buffer.concat([db, `${db}-wal`].map((f) => (exists(f) ? readFileSync(f) : Buffer.alloc(0))));
}
const exists = (f: string): boolean => {
  try {
    readFileSync(f);
    return true;
  } catch {
    return false;
  }
};

async function buildFails(b: OpenTestBucket): Promise<WorkspaceValidationError> {
  const err = await runBuild(b.ctx).then(
    () => assert.fail("build should have failed"),
    (e: unknown) => e,
  );
  assert.ok(err instanceof WorkspaceValidationError, String(err));
  return err;
}

describe("build: job files that must not reach the catalog", () => {
  let b: OpenTestBucket;
  let built: Record<string, unknown[]>;
  const job = () => join(b.root, "workspace", "jobs", "api");
  const db = () => join(b.root, "data", "maand.db");

  before(async () => {
    b = await openTestBucket(undefined, threeByThree());
    await runBuild(b.ctx);
    built = dumpCatalog(db());
  });
  after(() => b.cleanup());

  it("symlinks leaving the job directory (to /etc, to the bucket's kv.key) and loops are errors naming link and target; nothing is written", async () => {
    writeWorkspace(b.root, threeByThree());
    symlinkSync("/etc/passwd", join(job(), "passwd"));
    symlinkSync("../../../secrets/kv.key", join(job(), "kv.key"));
    symlinkSync("/etc", join(job(), "etc"));
    symlinkSync("loop2", join(job(), "loop1"));
    symlinkSync("loop1", join(job(), "loop2"));
    const err = await buildFails(b);
    const lines = err.message.split("\n");
    const line = (path: string) => lines.find((l) => l.startsWith(`workspace/jobs/api: ${path}: `)) ?? assert.fail(`no problem for ${path}:\n${err.message}`);
    assert.match(line("passwd"), /is a symlink to \/etc\/passwd \(\/etc\/passwd\), outside the job directory/);
    assert.match(line("kv.key"), new RegExp(`is a symlink to \\.\\./\\.\\./\\.\\./secrets/kv\\.key \\(${b.root.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}/secrets/kv\\.key\\), outside the job directory`));
    assert.match(line("etc"), /is a symlink to \/etc \(\/etc\), outside the job directory/);
    assert.match(line("loop1"), /is a symlink loop \(-> loop2\)/);
    assert.match(line("loop2"), /is a symlink loop \(-> loop1\)/);
    assert.equal(err.problems.length, 5, err.message);
    assert.deepEqual(dumpCatalog(db()), built, "catalog and KV unchanged");
    const key = readFileSync(join(b.root, "secrets", "kv.key"));
    assert.equal(catalogBytes(b.root).indexOf(key), -1, "kv.key's bytes are nowhere in maand.db");
  });

  it("a job directory linked to the bucket's secrets/ or root, and a hard link to kv.key, are refused too", async () => {
    writeWorkspace(b.root, threeByThree());
    const jobs = join(b.root, "workspace", "jobs");
    symlinkSync("../../secrets", join(jobs, "keys"));
    symlinkSync("../..", join(jobs, "everything"));
    linkSync(join(b.root, "secrets", "kv.key"), join(job(), "key.bin"));
    const err = await buildFails(b);
    const line = (file: string, path: string) => err.message.split("\n").find((l) => l.startsWith(`${file}: ${path}: `)) ?? assert.fail(`no ${file} ${path}:\n${err.message}`);
    assert.match(line("workspace/jobs/keys", "."), /resolves to .*\/secrets, which overlaps the bucket's own .*\/secrets; expected a job directory of its own/);
    assert.match(line("workspace/jobs/everything", "."), /overlaps the bucket's own/);
    assert.match(line("workspace/jobs/api", "key.bin"), /is a hard link to a file of the bucket's secrets\/ or data\//);
    assert.equal(err.problems.length, 3, err.message);
    assert.deepEqual(dumpCatalog(db()), built);
    assert.equal(catalogBytes(b.root).indexOf(readFileSync(join(b.root, "secrets", "kv.key"))), -1);
    for (const l of ["keys", "everything"]) rmSync(join(jobs, l));
    rmSync(join(job(), "key.bin"));
  });

  it("a file name that is not UTF-8 fails the build, naming its directory and bytes; nothing is written", async () => {
    writeWorkspace(b.root, threeByThree());
    writeFileSync(Buffer.concat([Buffer.from(`${job()}/na`), Buffer.from([0xef, 0xbb]), Buffer.from("ve.txt")]), "x");
    const err = await buildFails(b);
    assert.match(err.message, /^workspace\/jobs\/api: \.: holds a file name that is not valid UTF-8 \("na\\xef\\xbbve\.txt"\)/m);
    assert.equal(err.problems.length, 1, err.message);
    assert.deepEqual(dumpCatalog(db()), built);
  });

  it("links to files and directories inside the job are followed", async () => {
    writeWorkspace(b.root, threeByThree());
    symlinkSync("Makefile", join(job(), "Makefile.link"));
    symlinkSync("_hooks", join(job(), "hooks-alias"));
    await runBuild(b.ctx);
    const files = b.ctx.db.prepare("SELECT f.path, b.content FROM job_files f JOIN file_blobs b USING (hash) WHERE f.job = 'api' ORDER BY f.path").all() as Array<{ path: string; content: Buffer }>;
    const byPath = new Map(files.map((f) => [f.path, f.content.toString()]));
    assert.equal(byPath.get("Makefile.link"), byPath.get("Makefile"));
    assert.equal(byPath.get("hooks-alias/hook_ready.py"), "print('ok')\n");
    writeWorkspace(b.root, threeByThree());
    await runBuild(b.ctx);
    built = dumpCatalog(db());
  });

  it(`a file over ${MAX_JOB_FILE_BYTES} bytes is a problem naming the file and the limit, found by stat without reading it`, async () => {
    writeWorkspace(b.root, threeByThree());
    // Sparse files: no disk used. 3 GiB is beyond what readFileSync can return at all, so a
    // build that read before checking would report ERR_FS_FILE_TOO_LARGE, not the limit.
    writeFileSync(join(job(), "big.iso"), "");
    truncateSync(join(job(), "big.iso"), 1_100_000_000);
    writeFileSync(join(job(), "huge.img"), "");
    truncateSync(join(job(), "huge.img"), 3 * 1024 ** 3);
    writeFileSync(join(job(), "edge.bin"), "");
    truncateSync(join(job(), "edge.bin"), MAX_JOB_FILE_BYTES + 1);
    const err = await buildFails(b);
    const limit = `over the 500.0 MiB (${MAX_JOB_FILE_BYTES.toLocaleString("en-US")} bytes) build stores per job file`;
    for (const [file, size] of [["big.iso", "1,100,000,000"], ["huge.img", "3,221,225,472"], ["edge.bin", (MAX_JOB_FILE_BYTES + 1).toLocaleString("en-US")]]) {
      const line = err.message.split("\n").find((l) => l.startsWith(`workspace/jobs/api: ${file}: `));
      assert.ok(line?.includes(`(${size} bytes), ${limit}`), `${file}: ${line}\n${err.message}`);
    }
    assert.equal(err.problems.length, 3, err.message);
    assert.deepEqual(dumpCatalog(db()), built);
    for (const f of ["big.iso", "huge.img", "edge.bin"]) rmSync(join(job(), f));
  });
});
