import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { bucketPaths } from "../../server/bucket/paths.js";
import { planCliHooks } from "../../server/hooks/cli-targets.js";
import { runHooksAllOrNothing } from "../../server/hooks/run.js";
import { createStager, stagedJobDir } from "../../server/hooks/stager.js";
import type { StageResult } from "../../server/hooks/stage.js";
import type { WorkspaceFixture } from "../helpers/bucket.js";
import { hookBucket, recorderPy, workers, type HookBucket } from "./fixture.js";

const MAKEFILE = "start:\n\ttrue\n";
const CONF = "port = 8080\n";

/** Records what it finds in its staged directory, then damages it. */
const VANDAL = recorderPy(`
import os
seen = {"makefile": open("Makefile").read(), "conf": os.path.exists("conf/app.conf") and open("conf/app.conf").read()}
with open(os.path.join(os.environ["BUCKET_ROOT"], "seen.jsonl"), "a") as f:
    f.write(json.dumps(seen) + "\\n")
os.remove("conf/app.conf")
with open("Makefile", "a") as f:
    f.write("\\tbroken by a hook\\n")
`);

function ws(): WorkspaceFixture {
  return {
    workers: workers(1),
    jobs: {
      api: {
        manifest: { version: "1.0.0", selectors: ["w"], hooks: { hook_vandal: { executed_on: ["cli"] } } },
        files: { "_hooks/hook_vandal.py": VANDAL, Makefile: MAKEFILE, "conf/app.conf": CONF, "conf/other.conf": "other\n", "run.sh": { content: "#!/bin/sh\n", mode: 0o755 } },
      },
    },
  };
}

describe("staged copies damaged by a hook are repaired before the next run", () => {
  let b: HookBucket;
  before(async () => {
    b = await hookBucket();
    await b.build(ws());
  });
  after(() => b.cleanup());

  const dir = () => stagedJobDir(bucketPaths(b.root), "10.0.0.1", "api");
  const stage = (): Promise<StageResult> => b.with((ctx) => createStager({ paths: ctx.paths, db: ctx.db, kv: ctx.kv }).stage("api", "10.0.0.1").result);
  const seen = () => readFileSync(join(b.root, "seen.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as { makefile: string; conf: string | false });
  const run = () => b.with((ctx) => runHooksAllOrNothing(ctx, planCliHooks(ctx, { hook: "hook_vandal", job: "api" })));

  it("a real hook deletes and edits staged files; the next run, also after a rebuild, sees the snapshot", async () => {
    await run();
    assert.ok(!existsSync(join(dir(), "conf/app.conf")), "the hook did delete it");
    await run();
    await b.build(ws()); // a rebuild with nothing changed must not bless the damage either
    await run();
    for (const s of seen()) assert.deepEqual(s, { makefile: MAKEFILE, conf: CONF });
    assert.equal(seen().length, 3);
  });

  it("only what differs from the manifest (size, mtime, mode, type) is rewritten", async () => {
    const clean = await stage();
    assert.equal(clean.written, 2, "the two files the last run damaged");
    assert.deepEqual(await stage(), { written: 0, removed: 0, kept: clean.kept + clean.written });

    const later = new Date(Date.now() + 60_000);
    writeFileSync(join(dir(), "conf/other.conf"), "OTHER\n"); // same size: caught by the mtime
    utimesSync(join(dir(), "conf/other.conf"), later, later);
    chmodSync(join(dir(), "run.sh"), 0o777);
    rmSync(join(dir(), "Makefile"));
    symlinkSync("/etc/hostname", join(dir(), "Makefile"));
    rmSync(join(dir(), "_hooks"), { recursive: true });
    writeFileSync(join(dir(), "_hooks"), "a file where a directory was");
    const r = await stage();
    assert.equal(r.removed, 0);
    assert.equal(r.written, 6, JSON.stringify(r)); // other.conf, run.sh, Makefile, and _hooks/: hook_vandal.py, maand.py, maand.ts
    assert.equal(readFileSync(join(dir(), "conf/other.conf"), "utf8"), "other\n");
    assert.equal(statSync(join(dir(), "run.sh")).mode & 0o777, 0o755);
    assert.ok(lstatSync(join(dir(), "Makefile")).isFile(), "the symlink was replaced, not written through");
    assert.equal(readFileSync(join(dir(), "Makefile"), "utf8"), MAKEFILE);
    assert.ok(statSync(join(dir(), "_hooks")).isDirectory());
    assert.equal(readFileSync(join(dir(), "_hooks/hook_vandal.py"), "utf8"), VANDAL);
    assert.equal((await stage()).written, 0);
  });

  it("a directory of the job replaced by a symlink is recreated instead of written through", async () => {
    const outside = join(b.root, "outside");
    mkdirSync(outside);
    rmSync(join(dir(), "conf"), { recursive: true });
    symlinkSync(outside, join(dir(), "conf"));
    await stage();
    assert.ok(lstatSync(join(dir(), "conf")).isDirectory());
    assert.equal(readFileSync(join(dir(), "conf/app.conf"), "utf8"), CONF);
    assert.equal(existsSync(join(outside, "app.conf")), false, "nothing written outside the staged directory");
  });
});
