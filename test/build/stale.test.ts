import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, renameSync, rmSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { openBucket } from "../../server/bucket/context.js";
import { checkStaleCatalog, checkStaleCatalogInSlices, type StaleReport } from "../../server/build/stale.js";
import { makeBucket, writeWorkspace } from "../helpers/bucket.js";
import { maand } from "../helpers/cli.js";

/**
 * The stale-catalog check against what a real `maand build` recorded (tmp/build-stat.json v2
 * and the catalog's build id): every kind of workspace edit is found, whether the check may
 * trust the recorded hashes and directory mtimes or has to walk and read the catalog.
 */
describe("stale-catalog check: tmp/build-stat.json and the build id", () => {
  let root: string;
  let cleanup: () => void;
  const job = (rel: string) => join(root, "workspace", "jobs", "api", rel);
  const statFile = () => join(root, "tmp", "build-stat.json");
  const build = () => {
    const r = maand(root, "build", "--yes");
    assert.equal(r.status, 0, r.stderr);
  };
  const check = (): StaleReport => {
    const ctx = openBucket(root, { readonly: true });
    try {
      return checkStaleCatalog(ctx.paths, ctx.db);
    } finally {
      ctx.close();
    }
  };
  const none: StaleReport = { changed: [], added: [], removed: [] };

  before(async () => {
    ({ root, cleanup } = await makeBucket());
    writeWorkspace(root, {
      workers: [{ host: "10.0.0.1", labels: ["w"] }],
      jobs: { api: { manifest: { version: "1.0.0", selectors: ["w"] }, files: { "conf/a.conf": "a = 1\n", "conf/deep/b.conf": "b = 1\n", "top.txt": "t\n" } } },
    });
    build();
  });
  after(() => cleanup());

  it("build records its id with every file's stat and every directory's mtime", () => {
    const rec = JSON.parse(readFileSync(statFile(), "utf8")) as { v: number; build_id: string; jobs: Record<string, { files: Record<string, unknown>; dirs: Record<string, number> | null }> };
    const db = new Database(join(root, "data", "maand.db"), { readonly: true });
    try {
      assert.equal(rec.build_id, (db.prepare("SELECT build_id FROM bucket").get() as { build_id: string }).build_id);
    } finally {
      db.close();
    }
    assert.equal(rec.v, 2);
    assert.deepEqual(Object.keys(rec.jobs.api!.files).sort(), ["conf/a.conf", "conf/deep/b.conf", "manifest.json", "top.txt"]);
    assert.deepEqual(Object.keys(rec.jobs.api!.dirs!).sort(), ["", "conf", "conf/deep"]);
    // A rebuild that changes no job file keeps the id (it writes no catalog row).
    build();
    assert.equal((JSON.parse(readFileSync(statFile(), "utf8")) as { build_id: string }).build_id, rec.build_id);
  });

  it("finds a file added deep down, a new directory, a removal, a rename and an edit, in slices too", async () => {
    assert.deepEqual(check(), none);
    writeFileSync(job("conf/deep/new.conf"), "n\n");
    mkdirSync(job("extra/more"), { recursive: true });
    writeFileSync(job("extra/more/x.conf"), "x\n");
    rmSync(job("top.txt"));
    renameSync(job("conf/a.conf"), job("conf/a2.conf"));
    writeFileSync(job("conf/deep/b.conf"), "b = 2\n");
    const expected: StaleReport = {
      changed: ["jobs/api/conf/deep/b.conf"],
      added: ["jobs/api/conf/a2.conf", "jobs/api/conf/deep/new.conf", "jobs/api/extra/more/x.conf"],
      removed: ["jobs/api/conf/a.conf", "jobs/api/top.txt"],
    };
    assert.deepEqual(check(), expected);
    const ctx = openBucket(root, { readonly: true });
    try {
      assert.deepEqual(await checkStaleCatalogInSlices(ctx.paths, ctx.db), expected);
    } finally {
      ctx.close();
    }
    build();
    assert.deepEqual(check(), none);
  });

  it("a touch alone (same content, new mtime) is not a change", () => {
    const before = readFileSync(job("conf/deep/b.conf"));
    utimesSync(job("conf/deep/b.conf"), new Date(Date.now() + 60_000), new Date(Date.now() + 60_000));
    assert.deepEqual(check(), none, "same content, new mtime: hashed and found equal");
    assert.equal(readFileSync(job("conf/deep/b.conf")).compare(before), 0);
  });

  it("trusts the recorded hashes only while the catalog is that build's", () => {
    const db = new Database(join(root, "data", "maand.db"));
    try {
      // Behind build's back: the catalog loses a file the record still has.
      db.prepare("DELETE FROM job_files WHERE job = 'api' AND path = 'extra/more/x.conf'").run();
      assert.deepEqual(check(), none, "same build id: the record is taken as the catalog");
      db.prepare("UPDATE bucket SET build_id = 'another-build'").run();
      assert.deepEqual(check(), { ...none, added: ["jobs/api/extra/more/x.conf"] }, "another build id: the catalog is read");
    } finally {
      db.close();
    }
    build();
    assert.deepEqual(check(), none);
  });

  it("a job with a symlink is walked every time; a missing or old-format record still gives the right answer", () => {
    mkdirSync(job("shared"));
    writeFileSync(job("shared/s.conf"), "s\n");
    symlinkSync("shared", job("linked"));
    build();
    const rec = JSON.parse(readFileSync(statFile(), "utf8")) as { jobs: Record<string, { dirs: unknown }> };
    assert.equal(rec.jobs.api!.dirs, null);
    writeFileSync(job("shared/t.conf"), "t\n");
    assert.deepEqual(check(), { ...none, added: ["jobs/api/linked/t.conf", "jobs/api/shared/t.conf"] });
    rmSync(job("shared/t.conf"));

    // Version 1, as builds before the build id wrote it: {"<job>/<path>": {size, mtimeMs, hash}}.
    const v2 = JSON.parse(readFileSync(statFile(), "utf8")) as { jobs: Record<string, { files: Record<string, [number, number, string]> }> };
    const v1 = Object.fromEntries(Object.entries(v2.jobs.api!.files).map(([p, [size, mtimeMs, hash]]) => [`api/${p}`, { size, mtimeMs, hash }]));
    writeFileSync(statFile(), JSON.stringify(v1));
    assert.deepEqual(check(), none);
    writeFileSync(job("top.txt"), "again\n");
    assert.deepEqual(check(), { ...none, added: ["jobs/api/top.txt"] });
    rmSync(statFile());
    assert.deepEqual(check(), { ...none, added: ["jobs/api/top.txt"] });
  });
});
