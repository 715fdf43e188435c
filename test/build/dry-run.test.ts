import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeBucket, writeWorkspace } from "../helpers/bucket.js";
import { dumpCatalog, maand, mustBuild, threeByThree } from "./fixture.js";

/**
 * `maand build --dry-run` prints what the build would change and writes nothing; a build that
 * would remove most of what runs refuses without --yes.
 */
describe("maand build --dry-run and the --yes guard", () => {
  let bucket: { root: string; cleanup(): void };
  const db = () => join(bucket.root, "data", "maand.db");
  before(async () => {
    bucket = await makeBucket();
    writeWorkspace(bucket.root, threeByThree());
    mustBuild(bucket.root);
  });
  after(() => bucket.cleanup());

  it("names the allocations added, removed, disabled, re-enabled and version-changed, counts KV rows, writes nothing", () => {
    const ws = threeByThree();
    ws.workers!.push({ host: "10.0.0.4", labels: ["api"] });
    ws.disabled = { workers: ["10.0.0.2"] };
    (ws.jobs!.db!.manifest as { version: string }).version = "2.1.0";
    writeWorkspace(bucket.root, ws);
    const before = dumpCatalog(db());
    const r = maand(bucket.root, "build", "--dry-run");
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^build plan \(--dry-run: nothing was written\)$/m);
    assert.match(r.stdout, /^ {2}added: api@10\.0\.0\.4$/m);
    assert.match(r.stdout, /^ {2}disabled: api@10\.0\.0\.2 db@10\.0\.0\.2$/m);
    assert.match(r.stdout, /^ {2}version changed: db@10\.0\.0\.2 db@10\.0\.0\.3$/m);
    assert.match(r.stdout, /kv +\d+ written, \d+ tombstoned/);
    assert.match(r.stdout, /certs +1 to issue/);
    assert.deepEqual(dumpCatalog(db()), before, "the catalog is unchanged");

    const j = maand(bucket.root, "build", "--dry-run", "--json");
    assert.equal(j.status, 0, j.stderr);
    const plan = JSON.parse(j.stdout);
    assert.equal(plan.dry_run, true);
    assert.deepEqual(plan.allocations.changes.added, ["api@10.0.0.4"]);
    assert.equal(plan.allocations.disabled, 2);
    assert.equal(plan.allocations.version_changed, 2);
    assert.ok(plan.kv.written > 0);

    // re-enabling is named too, once the disabled build is in
    mustBuild(bucket.root);
    ws.disabled = undefined;
    writeWorkspace(bucket.root, ws);
    const back = maand(bucket.root, "build", "--dry-run");
    assert.match(back.stdout, /^ {2}re-enabled: api@10\.0\.0\.2 db@10\.0\.0\.2$/m);
    mustBuild(bucket.root);
  });

  it("refuses, changing nothing, a build that removes every worker or more than half of the allocations, unless --yes", () => {
    for (const [what, change, reason] of [
      ["an emptied workers.json", (ws: ReturnType<typeof threeByThree>) => (ws.workers = []), /removes every worker \(4 in the catalog, none in workspace\/workers\.json\)/],
      ["a typo'd label", (ws: ReturnType<typeof threeByThree>) => ws.workers!.forEach((w) => ((w as { labels: string[] }).labels = ["typo"])), /removes \d+ of \d+ allocations \(/],
    ] as const) {
      const ws = threeByThree();
      ws.workers!.push({ host: "10.0.0.4", labels: ["api"] });
      change(ws);
      writeWorkspace(bucket.root, ws);
      const before = dumpCatalog(db());
      const r = maand(bucket.root, "build");
      assert.equal(r.status, 1, `${what}: ${r.stdout}`);
      assert.match(r.stderr, /build refused: /, what);
      assert.match(r.stderr, reason, what);
      assert.match(r.stderr, /maand build --dry-run.*maand build --yes/, what);
      assert.deepEqual(dumpCatalog(db()), before, `${what}: nothing written`);
    }
    // removing a minority goes ahead; --yes lets the big one through
    const ws = threeByThree();
    writeWorkspace(bucket.root, ws);
    assert.equal(maand(bucket.root, "build").status, 0, "removing 10.0.0.4 (1 of 7) needs no --yes");
    ws.workers = [];
    writeWorkspace(bucket.root, ws);
    const forced = maand(bucket.root, "build", "--yes");
    assert.equal(forced.status, 0, forced.stderr);
    assert.match(forced.stdout, /allocations +0 active/);
  });
});
