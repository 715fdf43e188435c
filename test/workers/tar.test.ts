import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { tarChunks, tarSize, type TarEntry } from "../../server/workers/tar.js";

const ENTRIES: TarEntry[] = [
  { name: "Makefile", mode: 0o644, content: Buffer.from("start:\n") },
  { name: "bin-like/run.sh", mode: 0o755, content: Buffer.from("#!/bin/sh\n") },
  { name: "empty", mode: 0o600, content: Buffer.alloc(0) },
  { name: "exactly-512", mode: 0o644, content: randomBytes(512) },
  { name: `${"p".repeat(150)}/${"n".repeat(99)}`, mode: 0o644, content: Buffer.from("prefix+name split") },
  { name: `${"deep/".repeat(60)}file.txt`, mode: 0o640, content: Buffer.from("pax path") },
  { name: "ünïcödé/ñame.txt", mode: 0o644, content: Buffer.from("utf-8 name") },
  { name: "big.bin", mode: 0o644, content: randomBytes(700_000) },
];

/** Lists an archive with Python's tarfile (what the worker-side script uses): name, mode, size, sha256. */
function pythonList(archive: Buffer): Array<[string, number, number, string]> {
  const script = `
import hashlib, json, sys, tarfile
out = []
with tarfile.open(fileobj=sys.stdin.buffer, mode="r|", encoding="utf-8") as t:
    for m in t:
        out.append([m.name, m.mode, m.size, hashlib.sha256(t.extractfile(m).read()).hexdigest()])
print(json.dumps(out))`;
  return JSON.parse(execFileSync("python3", ["-c", script], { input: archive, encoding: "utf8" })) as Array<[string, number, number, string]>;
}

const sha = (b: Buffer) => execFileSync("sha256sum", { input: b, encoding: "utf8" }).split(" ")[0];

describe("ustar writer", () => {
  it("writes archives Python's tarfile reads back exactly (long and non-ASCII names, empty and block-sized files)", () => {
    const archive = Buffer.concat([...tarChunks(ENTRIES)]);
    assert.equal(archive.length % 512, 0);
    assert.equal(archive.length, tarSize(ENTRIES));
    assert.deepEqual(pythonList(archive), ENTRIES.map((e) => [e.name, e.mode, e.content.length, sha(e.content)]));
  });

  it("is read by GNU tar too, without warnings", () => {
    const r = spawnSync("tar", ["-tvf", "-"], { input: Buffer.concat([...tarChunks(ENTRIES)]), encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, "");
    assert.deepEqual(r.stdout.trim().split("\n").map((l) => l.split(/\s+/).slice(5).join(" ")), ENTRIES.map((e) => e.name));
  });

  it("gathers small entries into large chunks (few channel writes) and passes large contents through", () => {
    const many = Array.from({ length: 2000 }, (_, i) => ({ name: `f${i}`, mode: 0o644, content: Buffer.alloc(100, i) }));
    const chunks = [...tarChunks(many)];
    assert.ok(chunks.length < 20, `${chunks.length} chunks`);
    const big = Buffer.alloc(5_000_000);
    assert.ok([...tarChunks([{ name: "big", mode: 0o644, content: big }])].some((c) => c === big), "not copied");
  });

  it("an empty archive is the two end blocks", () => {
    const archive = Buffer.concat([...tarChunks([])]);
    assert.deepEqual(archive, Buffer.alloc(1024));
    assert.deepEqual(pythonList(archive), []);
  });
});
