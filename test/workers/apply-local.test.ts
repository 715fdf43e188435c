import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sealScript } from "../../server/workers/remote-state.js";
import { loadWorkerScripts } from "../../server/workers/scripts.js";
import { applyPayload } from "../../server/workers/sync.js";
import { planJobSync } from "../../server/workers/sync-plan.js";
import { file } from "./fixture.js";

// remote/apply.py run locally, fed what round-trip 2 of a sync sends (sync.ts applyPayload, the
// answer line aside, which the worker's shell reads): its start-up imports and its JSON, which
// need no real worker.
const probe = spawnSync("python3", ["-c", "import sys; print(sys.executable)"], { encoding: "utf8" });
// The interpreter itself, not a wrapper such as a pyenv shim.
const PYTHON = probe.status === 0 ? probe.stdout.trim() : "python3";
const skip = probe.status === 0 ? false : "needs python3";
const HEAVY = ["json", "re", "enum", "hashlib", "shutil", "signal", "collections"];

describe("remote/apply.py locally", { skip }, () => {
  let root: string;
  const apply = loadWorkerScripts().apply;
  before(() => {
    root = mkdtempSync(join(tmpdir(), "maand-apply-"));
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  /** apply.py with `files` for job web, as a sync sends them; the modules it imported and its reply. */
  function run(files: ReturnType<typeof file>[]): { status: number | null; reply: { ok: boolean; error?: string; jobs?: Record<string, { written: number }> }; imported: string[] } {
    const plan = planJobSync({ job: "web", files }, undefined);
    const payload = applyPayload(join(root, "bucket"), [plan], [], [], false, undefined, "00112233445566778899aabbccddeeff");
    const input = Buffer.concat([...payload.parts]);
    const r = spawnSync(PYTHON, ["-E", "-S", "-X", "importtime", "-c", apply], { input: input.subarray(input.indexOf(10) + 1), timeout: 30_000 });
    const imported = r.stderr
      .toString()
      .split("\n")
      .flatMap((l) => (l.startsWith("import time:") ? [l.split("|")[2]!.trim()] : []));
    return { status: r.status, reply: JSON.parse(r.stdout.toString() || "{}"), imported };
  }

  it("a small sync imports none of json, re, enum, hashlib, shutil, signal: their C halves only", () => {
    const r = run([file("Makefile", "start:\n"), file("run.sh", "#!/bin/sh\n", 0o755)]);
    assert.deepEqual([r.status, r.reply.ok, r.reply.jobs?.web?.written], [0, true, 2], JSON.stringify(r.reply));
    assert.deepEqual(r.imported.filter((m) => HEAVY.includes(m.split(".")[0]!)), []);
    assert.equal(statSync(join(root, "bucket", "jobs", "web", "run.sh")).mode & 0o777, 0o755);
    const manifest = JSON.parse(readFileSync(join(root, "bucket", "manifests", "web.json"), "utf8")) as { files: Record<string, unknown[]> };
    assert.deepEqual(Object.keys(manifest.files), ["Makefile", "run.sh"]);
  });

  it("past a megabyte it hashes with OpenSSL, and a content that is not what the control line says is refused either way", () => {
    const big = run([file("big.bin", Buffer.alloc(3 << 20, 7)), file("after.txt", "after\n")]);
    assert.deepEqual([big.status, big.reply.ok], [0, true], JSON.stringify(big.reply));
    assert.ok(big.imported.includes("hashlib"));
    for (const size of [10, 3 << 20]) {
      const f = file("bad.bin", Buffer.alloc(size, 1));
      const r = run([{ ...f, content: Buffer.alloc(size, 2) }]);
      assert.equal(r.status, 1);
      assert.match(r.reply.error ?? "", /bad\.bin arrived with sha256 [0-9a-f]{64}, expected/);
    }
  });

  it("its JSON is json's: json_dumps writes json.dumps's bytes (sorted or not), json_loads reads what json.loads reads and refuses the same", () => {
    const code = String.raw`
import json, runpy, sys
a = runpy.run_path(sys.argv[1], run_name="apply")
value = {"z": [1, -2, 3.5, True, False, None, "q\"uote\\back\tslash\x01\x1f\x7f caf\u00e9 \u20ac \U0001F600"], "a": {"b": {}, "": []}, "m": "\ud800"}
for sort_keys in (False, True):
    assert a["json_dumps"](value, sort_keys=sort_keys) == json.dumps(value, sort_keys=sort_keys, separators=(",", ":")), sort_keys
text = json.dumps(value)
assert a["json_loads"](text) == json.loads(text)
assert a["json_loads"]("  [1]\n") == [1]
for bad in ("", "{", "[1] x", "NaN", '{"a": 1,}'):
    try:
        a["json_loads"](bad)
    except ValueError:
        pass
    else:
        raise AssertionError(bad)
print("same")
`;
    writeFileSync(join(root, "apply.py"), apply);
    const r = spawnSync(PYTHON, ["-E", "-S", "-c", code, join(root, "apply.py")], { encoding: "utf8", input: "" });
    assert.equal(r.stdout.trim(), "same", r.stderr);
  });

  it("the seal it writes is the shell's: the token and the sha256 of find's stat listing, over every corner of a tree", () => {
    const job = join(root, "bucket", "jobs", "web");
    run([file("Makefile", "start:\n")]);
    // What only the worker has: protected top-level names (a directory and a plain file), the
    // same names deeper down (not protected there), links, a FIFO, odd names and mode bits.
    for (const d of ["data", "sub/data", "sub/deep/er", "bin"]) mkdirSync(join(job, d), { recursive: true });
    for (const [rel, mode] of [["data/x", 0o644], ["logs", 0o600], ["sub/data/y", 0o644], ["sub/deep/er/z", 0o4755], ["sp ace\nline", 0o640], ["bin/tool", 0o755]] as const) writeFileSync(join(job, rel), rel, { mode });
    chmodSync(join(job, "sub/deep/er/z"), 0o4755);
    writeFileSync(Buffer.concat([Buffer.from(`${job}/`), Buffer.from([0x66, 0xff, 0x6f])]), "not utf-8");
    symlinkSync("Makefile", join(job, "link-to-file"));
    symlinkSync("sub", join(job, "link-to-dir"));
    assert.equal(spawnSync("mkfifo", [join(job, "fifo")]).status, 0);
    const token = "00112233445566778899aabbccddeeff";
    const r = run([file("Makefile", "start:\n\t@true\n")]);
    assert.deepEqual([r.status, r.reply.ok], [0, true], JSON.stringify(r.reply));
    const sealFile = join(root, "bucket", "manifests", "web.seal");
    const byPython = readFileSync(sealFile, "utf8");
    assert.match(byPython, new RegExp(`^${token} [0-9a-f]{64}  -\n$`));
    rmSync(sealFile);
    const shell = spawnSync("sh", ["-c", `tok=${token}\n${sealScript(join(root, "bucket"), ["web"])}`], { encoding: "utf8" });
    assert.equal(shell.status, 0, shell.stderr);
    assert.equal(byPython, readFileSync(sealFile, "utf8"));
    // And it is a digest of the listing, not of nothing: a chmod moves it.
    chmodSync(join(job, "sub/data/y"), 0o600);
    spawnSync("sh", ["-c", `tok=${token}\n${sealScript(join(root, "bucket"), ["web"])}`]);
    assert.notEqual(readFileSync(sealFile, "utf8"), byPython);
  });
});

