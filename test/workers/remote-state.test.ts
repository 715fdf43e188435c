import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findTime, MANIFEST_VERSION, parseState, sealScript, stateScript } from "../../server/workers/remote-state.js";

/** The state script run locally against a directory laid out like a worker's bucket dir. */
function listing(root: string, jobs: string[], layout: string[] = []): Buffer {
  return execFileSync("sh", ["-c", stateScript(root, jobs, layout)]);
}

function entry(file: string, sha: string): [string, number, number, string, string, string] {
  const st = statSync(file, { bigint: true });
  return [sha, Number(st.mode & 0o7777n), Number(st.size), st.ino.toString(), st.mtimeNs.toString(), st.ctimeNs.toString()];
}

describe("sync state listing (sh + find, compared in TS)", () => {
  const root = mkdtempSync(join(tmpdir(), "maand-state-"));
  const job = join(root, "jobs", "web");
  mkdirSync(join(job, "conf"), { recursive: true });
  mkdirSync(join(root, "manifests"));
  for (const d of ["data", "logs", "bin"]) {
    mkdirSync(join(job, d));
    writeFileSync(join(job, d, "big-state"), "x");
  }
  writeFileSync(join(job, "Makefile"), "start:\n");
  writeFileSync(join(job, "conf", "a b\nc.conf"), "odd name\n");
  writeFileSync(join(job, "untracked"), "?");
  const manifest = (files: Record<string, unknown>, version = MANIFEST_VERSION) => writeFileSync(join(root, "manifests", "web.json"), JSON.stringify({ version, job: "web", files }));

  it("files as the manifest recorded them are intact; changed, missing and mode-changed ones are stale; protected dirs are not listed", () => {
    manifest({ Makefile: entry(join(job, "Makefile"), "h1"), "conf/a b\nc.conf": entry(join(job, "conf", "a b\nc.conf"), "h2"), gone: ["h3", 420, 1, "1", "1", "1"] });
    const out = listing(root, ["web", "new-job"]);
    assert.ok(!out.includes("big-state"), "data/ logs/ bin/ pruned");
    const s = parseState(out, ["web", "new-job"]);
    assert.deepEqual(s.jobs.web.intact, { Makefile: ["h1", statSync(join(job, "Makefile")).mode & 0o7777], "conf/a b\nc.conf": ["h2", statSync(join(job, "conf", "a b\nc.conf")).mode & 0o7777] });
    assert.deepEqual(s.jobs.web.stale, ["gone"]);
    assert.deepEqual(s.jobs["new-job"], { manifest: false, dir: false, intact: {}, stale: [] });

    execFileSync("chmod", ["600", join(job, "Makefile")]);
    assert.deepEqual(parseState(listing(root, ["web"]), ["web"]).jobs.web.stale, ["Makefile", "gone"]);
  });

  it("a sealed job answers K for the token it was sealed with, until a file of it changes; data/ logs/ bin/ do not count", () => {
    const token = "00112233445566778899aabbccddeeff";
    execFileSync("sh", ["-c", `tok=${token}\n${sealScript(root, ["web"])}`]);
    const recorded = { Makefile: ["h1", 0o644] as [string, number] };
    const sealed = (seals: Record<string, string>) => execFileSync("sh", ["-c", stateScript(root, ["web"], [], seals)]);
    const out = sealed({ web: token });
    assert.equal(out.toString("latin1"), "maand-state-v1\0K\0web\0end\0", "a few bytes instead of the manifest and listing");
    assert.deepEqual(parseState(out, ["web"], () => recorded).jobs.web, { sealed: true, manifest: true, dir: true, intact: recorded, stale: [] });
    assert.throws(() => parseState(out, ["web"]), /sealed, but no seal was sent/);
    writeFileSync(join(job, "data", "big-state"), "the job's own state changes all the time");
    assert.ok(sealed({ web: token }).includes("K\0web\0"), "protected dirs are not part of the seal");
    assert.ok(sealed({ web: token.replace("0", "1") }).includes("J\0web\0"), "another token: full listing");
    writeFileSync(join(job, "untracked"), "!");
    assert.ok(sealed({ web: token }).includes("J\0web\0"), "a changed file: full listing");
    assert.throws(() => stateScript(root, ["web"], [], { web: "'; rm -rf /; '" }), /invalid sync seal/);
  });

  it("a damaged manifest trusts nothing; another version's entries are all stale", () => {
    writeFileSync(join(root, "manifests", "web.json"), "{not json");
    assert.deepEqual(parseState(listing(root, ["web"]), ["web"]).jobs.web, { manifest: false, dir: true, intact: {}, stale: [] });
    manifest({ Makefile: entry(join(job, "Makefile"), "h1") }, 1);
    assert.deepEqual(parseState(listing(root, ["web"]), ["web"]).jobs.web.stale, ["Makefile"]);
  });

  it("prints recorded times as GNU find's %T@ does (the comparison's fast path), down to a time near the epoch", () => {
    const f = join(root, "times");
    writeFileSync(f, "t");
    for (const at of [null, "@5", "2020-01-01 00:00:00.000000001"]) {
      if (at) execFileSync("touch", ["-d", at, f]);
      const printed = execFileSync("find", [f, "-printf", "%T@ %C@"], { encoding: "utf8" });
      const st = statSync(f, { bigint: true });
      assert.equal(`${findTime(st.mtimeNs.toString())} ${findTime(st.ctimeNs.toString())}`, printed, `touch -d ${at}`);
    }
  });

  it("a listing in another find's time format is compared exactly: intact as recorded, stale one nanosecond off", () => {
    const ns = "1700000000123456789";
    const files = { a: ["ha", 0o644, 10, "5", ns, ns], b: ["hb", 0o644, 10, "6", ns, ns], c: ["hc", 0o755, 10, "7", ns, ns] };
    const stats = { a: "5 10 1700000000.1234567890 1700000000.1234567890 644", b: "6 10 1700000000.123456789 1700000000.123456789 644", c: "7 10 1700000000.123456788 1700000000.123456789 755" };
    const out = Buffer.from(["maand-state-v1", "J", "web", JSON.stringify({ version: MANIFEST_VERSION, job: "web", files }), ...Object.entries(stats).flat(), "", "end", ""].join("\0"));
    const s = parseState(out, ["web"]);
    assert.deepEqual(s.jobs.web.intact, { a: ["ha", 0o644], b: ["hb", 0o644] });
    assert.deepEqual(s.jobs.web.stale, ["c"]);
  });

  it("returns the layout files present and the worker's update_seq", () => {
    writeFileSync(join(root, "worker.json"), JSON.stringify({ update_seq: 41 }));
    const s = parseState(listing(root, [], ["worker.json", "jobs.json"]), []);
    assert.equal(s.updateSeq, 41);
    assert.deepEqual(Object.keys(s.layout), ["worker.json"]);
    assert.throws(() => parseState(Buffer.from("garbage\0"), []), /does not start as expected/);
    assert.throws(() => parseState(Buffer.from("maand-state-v1\0J\0web\0"), ["web"]), /ended early/);
  });
});
