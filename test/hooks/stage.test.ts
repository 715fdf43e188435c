import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createPrivateKey, X509Certificate } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { bucketPaths } from "../../server/bucket/paths.js";
import { createStager, stagedJobDir } from "../../server/hooks/stager.js";
import type { StageResult } from "../../server/hooks/stage.js";
import { hookBucket, workers, type HookBucket } from "./fixture.js";
import type { WorkspaceFixture } from "../helpers/bucket.js";

function ws(files: Record<string, string | { content: string; mode: number }>): WorkspaceFixture {
  return {
    workers: workers(2),
    jobs: {
      api: {
        manifest: { version: "1.0.0", selectors: ["w"], certs: { server: { subject: { common_name: "api" } } }, hooks: { hook_x: { executed_on: ["cli"] } } },
        files: { "_hooks/hook_x.py": "print('x')\n", ...files },
      },
    },
  };
}

const FILES = {
  Makefile: "start:\n\ttrue\n",
  "scripts/run.sh": { content: "#!/bin/sh\necho run\n", mode: 0o750 },
  "conf/app.conf.tpl": "port = {{ get \"vars/job/api\" \"port\" }}\n",
  "conf/deep/nested.txt": "nested\n",
};

describe("staging tmp/workers/<ip>/jobs/<job>/ from the built snapshot", () => {
  let b: HookBucket;
  let sdkDir: string;
  before(async () => {
    b = await hookBucket();
    sdkDir = join(b.root, "fake-sdk");
    mkdirSync(sdkDir);
    writeFileSync(join(sdkDir, "maand.py"), "# sdk py\n");
    writeFileSync(join(sdkDir, "maand.ts"), "// sdk ts\n");
    await b.build(ws(FILES));
  });
  after(() => b.cleanup());

  const stage = (ip = "10.0.0.1"): Promise<StageResult> =>
    b.with((ctx) => {
      const sdk = [
        { path: "_hooks/maand.py", source: join(sdkDir, "maand.py") },
        { path: "_hooks/maand.ts", source: join(sdkDir, "maand.ts") },
      ];
      return createStager({ paths: ctx.paths, db: ctx.db, kv: ctx.kv, sdk }).stage("api", ip).result;
    });
  const dir = () => stagedJobDir(bucketPaths(b.root), "10.0.0.1", "api");
  const mode = (rel: string) => statSync(join(dir(), rel)).mode & 0o777;

  it("writes job files with their modes, templates as they are, certs (keys 0600) and the SDKs", async () => {
    const r = await stage();
    assert.ok(r.written >= 9, JSON.stringify(r));
    assert.equal(readFileSync(join(dir(), "Makefile"), "utf8"), FILES.Makefile);
    assert.equal(mode("scripts/run.sh"), 0o750);
    assert.equal(mode("Makefile"), 0o644);
    assert.equal(readFileSync(join(dir(), "conf/app.conf.tpl"), "utf8"), FILES["conf/app.conf.tpl"], "templates are not rendered for hooks");
    assert.ok(!existsSync(join(dir(), "conf/app.conf")));
    assert.match(readFileSync(join(dir(), "certs/server.crt"), "utf8"), /BEGIN CERTIFICATE/);
    assert.match(readFileSync(join(dir(), "certs/server.key"), "utf8"), /PRIVATE KEY/);
    assert.equal(mode("certs/server.key"), 0o600);
    assert.equal(mode("certs/server.crt"), 0o644);
    const kvCert = await b.with((ctx) => ctx.kv.get("maand/job/api/worker/10.0.0.1", "certs/server.crt"));
    assert.equal(readFileSync(join(dir(), "certs/server.crt"), "utf8"), kvCert);
    assert.equal(readFileSync(join(dir(), "_hooks/maand.py"), "utf8"), "# sdk py\n");
    assert.equal(readFileSync(join(dir(), "_hooks/maand.ts"), "utf8"), "// sdk ts\n");
    assert.ok(existsSync(join(b.root, "tmp/workers/10.0.0.1/jobs/api.staged.json")), "manifest beside the staged dir");
  });

  it("stages the private key decrypted (a PEM of its cert, 0600) though maand.db holds it encrypted", async () => {
    await stage();
    const ns = "maand/job/api/worker/10.0.0.1";
    const row = await b.with((ctx) => ctx.kv.latest(ns, "certs/server.key")!);
    assert.equal(row.encrypted, 1);
    assert.ok(!row.value.includes("PRIVATE KEY"));
    const pem = readFileSync(join(dir(), "certs/server.key"), "utf8");
    assert.equal(pem, await b.with((ctx) => ctx.kv.get(ns, "certs/server.key")));
    const crt = new X509Certificate(readFileSync(join(dir(), "certs/server.crt")));
    assert.ok(crt.checkPrivateKey(createPrivateKey(pem)));
    assert.equal(mode("certs/server.key"), 0o600);
  });

  it("restaging an unchanged snapshot writes nothing", async () => {
    const r = await stage();
    assert.equal(r.written, 0);
    assert.equal(r.removed, 0);
    assert.ok(r.kept >= 9);
  });

  it("stages the built snapshot, not the live workspace; after a build only what changed is rewritten", async () => {
    const live = join(b.root, "workspace/jobs/api/Makefile");
    writeFileSync(live, "changed but not built\n");
    assert.equal((await stage()).written, 0);
    assert.equal(readFileSync(join(dir(), "Makefile"), "utf8"), FILES.Makefile);

    const { "conf/deep/nested.txt": _gone, ...rest } = FILES;
    await b.build(ws({ ...rest, Makefile: "start:\n\tfalse\n", "scripts/run.sh": { content: "#!/bin/sh\necho run\n", mode: 0o755 } }));
    const r = await stage();
    assert.deepEqual({ written: r.written, removed: r.removed }, { written: 2, removed: 1 });
    assert.equal(readFileSync(join(dir(), "Makefile"), "utf8"), "start:\n\tfalse\n");
    assert.equal(mode("scripts/run.sh"), 0o755, "a mode-only change is restaged");
    assert.ok(!existsSync(join(dir(), "conf/deep/nested.txt")), "files dropped from the snapshot are deleted");
    assert.ok(!existsSync(join(dir(), "conf/deep")), "and their empty directories");
  });

  it("a staged directory deleted under tmp/ (manifest kept) is rebuilt", async () => {
    rmSync(dir(), { recursive: true });
    const r = await stage();
    assert.ok(r.written >= 8);
    assert.equal(readFileSync(join(dir(), "Makefile"), "utf8"), "start:\n\tfalse\n");
    assert.ok(existsSync(join(dir(), "certs/server.crt")));
  });

  it("without a manifest the directory is rebuilt from scratch (stray files removed)", async () => {
    writeFileSync(join(dir(), "stray.txt"), "left by someone\n");
    rmSync(join(b.root, "tmp/workers/10.0.0.1/jobs/api.staged.json"));
    const r = await stage();
    assert.ok(r.written >= 8);
    assert.ok(!existsSync(join(dir(), "stray.txt")));
    assert.equal((await stage()).written, 0);
  });

  it("each allocation gets its own directory and its own certs", async () => {
    await stage("10.0.0.2");
    const other = join(b.root, "tmp/workers/10.0.0.2/jobs/api");
    assert.notEqual(readFileSync(join(other, "certs/server.key"), "utf8"), readFileSync(join(dir(), "certs/server.key"), "utf8"));
  });
});
