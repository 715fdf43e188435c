import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { runBuild } from "../../server/build/run.js";
import { openDb, SCHEMA_VERSION } from "../../server/store/db.js";
import { MIGRATIONS } from "../../server/store/migrations.js";
import { deployedJobFileContent, saveDeployedSnapshot } from "../../server/store/deploy-state.js";
import { jobFileContents } from "../../server/store/catalog.js";
import { builtBucket, type OpenTestBucket } from "../build/fixture.js";

const sha = (s: string) => createHash("sha256").update(s).digest("hex");

describe("file contents stored once, by hash, for the built and the deployed snapshot", () => {
  let b: OpenTestBucket;
  before(async () => {
    b = await builtBucket();
  });
  after(() => b.cleanup());
  const blobs = () => b.ctx.db.prepare("SELECT hash FROM file_blobs ORDER BY hash").pluck().all() as string[];
  const referenced = () =>
    b.ctx.db.prepare("SELECT hash FROM job_files UNION SELECT hash FROM deployed_job_files ORDER BY hash").pluck().all() as string[];

  it("build stores each distinct content once; the promote's snapshot adds no content", () => {
    assert.deepEqual(blobs(), referenced());
    // Two jobs ship the same "start:\n" Makefile: one blob.
    assert.equal(b.ctx.db.prepare("SELECT COUNT(*) FROM job_files WHERE hash = ?").pluck().get(sha("start:\n")), 2);
    const before = blobs();
    b.ctx.db.transaction(() => saveDeployedSnapshot(b.ctx.db, "api", 1))();
    assert.deepEqual(blobs(), before);
    assert.equal(deployedJobFileContent(b.ctx.db, "api", "bin.sh")?.toString(), "#!/bin/sh\n");
  });

  it("a rebuilt file keeps the deployed content until the next promote, which drops it", async () => {
    writeFileSync(join(b.root, "workspace", "jobs", "api", "bin.sh"), "#!/bin/sh\necho v2\n", { mode: 0o755 });
    await runBuild(b.ctx);
    assert.equal(jobFileContents(b.ctx.db)("api", "bin.sh")?.toString(), "#!/bin/sh\necho v2\n");
    assert.equal(deployedJobFileContent(b.ctx.db, "api", "bin.sh")?.toString(), "#!/bin/sh\n", "the deployed snapshot still stops what runs");
    assert.ok(blobs().includes(sha("#!/bin/sh\n")));
    // Built, never deployed, then built again: no snapshot keeps v2.
    writeFileSync(join(b.root, "workspace", "jobs", "api", "bin.sh"), "#!/bin/sh\necho v3\n", { mode: 0o755 });
    await runBuild(b.ctx);
    assert.ok(!blobs().includes(sha("#!/bin/sh\necho v2\n")));
    assert.deepEqual(blobs(), referenced());
    b.ctx.db.transaction(() => saveDeployedSnapshot(b.ctx.db, "api", 2))();
    assert.equal(deployedJobFileContent(b.ctx.db, "api", "bin.sh")?.toString(), "#!/bin/sh\necho v3\n");
    assert.ok(!blobs().includes(sha("#!/bin/sh\n")), "no snapshot refers to it any more");
    assert.deepEqual(blobs(), referenced());
  });
});

describe("migration 5: contents move out of both snapshot tables", () => {
  const dir = mkdtempSync(join(tmpdir(), "maand-blobs-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("a version 4 catalog's contents are readable, stored once, after the upgrade", () => {
    const file = join(dir, "maand.db");
    const old = new Database(file);
    old.exec("CREATE TABLE schema_version (version INTEGER NOT NULL)");
    for (const m of MIGRATIONS.slice(0, 4)) old.exec(m);
    old.prepare("INSERT INTO schema_version (version) VALUES (4)").run();
    const row = old.prepare("INSERT INTO job_files (job, path, mode, hash, content) VALUES (?, ?, ?, ?, ?)");
    row.run("web", "a.conf", 0o644, sha("one"), Buffer.from("one"));
    row.run("web", "b.conf", 0o644, sha("two"), Buffer.from("two"));
    old.prepare("INSERT INTO deployed_job_files (job, path, mode, hash, content) VALUES (?, ?, ?, ?, ?)").run("web", "a.conf", 0o644, sha("old"), Buffer.from("old"));
    old.prepare("INSERT INTO deployed_job_files (job, path, mode, hash, content) VALUES (?, ?, ?, ?, ?)").run("web", "b.conf", 0o644, sha("two"), Buffer.from("two"));
    old.close();

    const db = openDb(file);
    try {
      assert.equal(db.prepare("SELECT version FROM schema_version").pluck().get(), SCHEMA_VERSION);
      assert.equal(jobFileContents(db)("web", "a.conf")?.toString(), "one");
      assert.equal(deployedJobFileContent(db, "web", "a.conf")?.toString(), "old");
      assert.equal(deployedJobFileContent(db, "web", "b.conf")?.toString(), "two");
      assert.equal(db.prepare("SELECT COUNT(*) FROM file_blobs").pluck().get(), 3);
      const columns = db.prepare("SELECT name FROM pragma_table_info('deployed_job_files')").pluck().all();
      assert.deepEqual(columns, ["job", "path", "mode", "hash"]);
    } finally {
      db.close();
    }
  });
});
