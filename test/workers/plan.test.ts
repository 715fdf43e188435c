import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { SyncInputError } from "../../server/workers/errors.js";
import { planIsNoOp, planJobSync, validateJobSync, type RemoteJobState } from "../../server/workers/sync-plan.js";
import { file, rejection } from "./fixture.js";

const remote = (intact: Record<string, [string, number]>, stale: string[] = []): RemoteJobState => ({ manifest: true, dir: true, intact, stale });

describe("sync plan (pure)", () => {
  const a = file("a", "A");
  const b = file("dir/b", "B", 0o755);
  const c = file("c", "C");

  it("a worker without a manifest gets every file", () => {
    const p = planJobSync({ job: "j", files: [a, b] }, undefined);
    assert.deepEqual(p.write.map((f) => f.path), ["a", "dir/b"]);
    assert.equal(p.bytes, 2);
    assert.ok(!planIsNoOp(p));
  });

  it("sends only what differs: content changes, mode-only changes as chmod, deletions of files it once sent", () => {
    const have = remote({ a: [a.hash, 0o644], "dir/b": [b.hash, 0o644], old: [c.hash, 0o644] });
    const p = planJobSync({ job: "j", files: [a, b, file("c", "changed")] }, have);
    assert.deepEqual(p.write.map((f) => f.path), ["c"]);
    assert.deepEqual(p.chmod, [{ path: "dir/b", mode: 0o755 }]);
    assert.deepEqual(p.delete, ["old"]);
    assert.equal(p.unchanged, 1);
  });

  it("stale files (changed on the worker) are resent when wanted and deleted when not", () => {
    const p = planJobSync({ job: "j", files: [a] }, remote({}, ["a", "gone"]));
    assert.deepEqual(p.write.map((f) => f.path), ["a"]);
    assert.deepEqual(p.repaired, ["a"]);
    assert.deepEqual(p.delete, ["gone"]);
  });

  it("nothing to do is a no-op plan", () => {
    const p = planJobSync({ job: "j", files: [a] }, remote({ a: [a.hash, 0o644] }));
    assert.ok(planIsNoOp(p));
  });

  it("reports every input problem at once", async () => {
    const bad = [
      file("data/db", "x"),
      file("logs", "x"),
      file("/abs", "x"),
      file("a/../b", "x"),
      file("x", "1"),
      file("x", "2"),
      file("d", "file"),
      file("d/e", "under a file"),
      { ...file("m", "x"), mode: 0o100644 },
      { ...file("h", "x"), hash: "nope" },
    ];
    const err = await rejection(Promise.resolve().then(() => validateJobSync({ job: ".hidden", files: bad })));
    assert.ok(err instanceof SyncInputError);
    for (const needle of ["job name", "data/db: data/ belongs", "logs: logs/ belongs", '"/abs"', '"a/../b"', "x: listed twice", "d: is both a file and the directory of d/e", "m: mode", "h: hash"])
      assert.ok(err.message.includes(needle), `${needle} in ${err.message}`);
  });
});
