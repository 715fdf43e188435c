import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CommandInterrupted, SyncInputError, WorkerStepFailed, WorkerUnreachable } from "../../server/workers/errors.js";
import { JOBS_DIR, MANIFESTS_DIR, SEAL_SUFFIX } from "../../server/workers/layout.js";
import type { WorkerPool } from "../../server/workers/pool.js";
import { removeJob, syncWorker, syncWorkers, writeLayout } from "../../server/workers/sync.js";
import type { SyncFile } from "../../server/workers/sync-plan.js";
import { file, poolFor, rejection, sealOf, tree } from "./fixture.js";
import { waitFor } from "./procs.js";
import { startWorkers, testWorkersUnavailable, type WorkerSet } from "./workers.js";

const skip = testWorkersUnavailable();
const BUCKET = "6f1c2d3e-0000-4000-8000-00000000b0c1";

describe("sync: job files to real workers", { skip }, () => {
  let set: WorkerSet;
  let pool: WorkerPool;
  let ip: string;
  const jobDir = (job: string, i = 0) => join(set.workers[i].optDir, BUCKET, JOBS_DIR, job);

  before(async () => {
    set = await startWorkers(3);
    pool = poolFor(set);
    ip = set.workers[0].ip;
  });
  after(async () => {
    pool?.close();
    await set?.stop();
  });

  const base = (): SyncFile[] => [
    file("Makefile", "start:\n\techo start\n"),
    file("run.sh", "#!/bin/sh\necho run\n", 0o755),
    file("conf/app.conf", "port = 1\n", 0o600),
    file("conf/deep/a/b.txt", "b\n"),
    file(`${"long/".repeat(40)}name.txt`, "long path\n"),
  ];

  it("first sync sends every file with its mode; a second sync with no change sends nothing and skips round-trip 2", async () => {
    const r = await syncWorker(pool, { host: ip, bucketId: BUCKET, jobs: [{ job: "web", files: base() }] });
    assert.deepEqual(r.jobs[0].sent.sort(), base().map((f) => f.path).sort());
    assert.equal(r.roundTrips, 2);
    const seen = tree(jobDir("web"));
    for (const f of base()) {
      assert.equal(seen[f.path]?.content, f.content.toString(), f.path);
      assert.equal(seen[f.path]?.mode, f.mode, `${f.path} mode`);
    }
    assert.deepEqual(Object.keys(seen).sort(), base().map((f) => f.path).sort(), "nothing else in the job dir (no temp files)");
    assert.ok(existsSync(join(set.workers[0].optDir, BUCKET, MANIFESTS_DIR, "web.json")));

    const again = await syncWorker(pool, { host: ip, bucketId: BUCKET, jobs: [{ job: "web", files: base(), seal: sealOf(r, base()) }] });
    assert.deepEqual(again.jobs[0], { job: "web", sent: [], deleted: [], chmod: [], repaired: [], unchanged: base().length, bytes: 0, seal: r.jobs[0].seal, listing: "sealed" });
    assert.equal(again.roundTrips, 1);
    assert.equal(again.wireBytes, 0);
  });

  it("a seal holds only for the token it was written with and the directory as that sync left it", async () => {
    const files = base();
    const first = await syncWorker(pool, { host: ip, bucketId: BUCKET, jobs: [{ job: "sealed", files }] });
    const seal = sealOf(first, files);
    const sealFile = join(set.workers[0].optDir, BUCKET, MANIFESTS_DIR, `sealed${SEAL_SUFFIX}`);
    assert.match(readFileSync(sealFile, "utf8"), new RegExp(`^${seal.token} [0-9a-f]{64}  -\n$`));
    const listing = async (s: typeof seal) => (await syncWorker(pool, { host: ip, bucketId: BUCKET, jobs: [{ job: "sealed", files, seal: s }] })).jobs[0];
    assert.equal((await listing(seal)).listing, "sealed");
    // Another token (the record of an older sync, another bucket copy): listed in full, nothing resent.
    const other = await listing({ ...seal, token: "0123456789abcdef0123456789abcdef" });
    assert.deepEqual([other.listing, other.sent, other.unchanged], ["full", [], files.length]);
    const resealed = sealOf({ ...first, jobs: [other] }, files);
    assert.notEqual(resealed.token, seal.token);
    assert.equal((await listing(seal)).listing, "full", "the old token no longer holds");
    // A file changed behind maand's back, even to the same size and mtime: the seal breaks, the file is repaired.
    const run = join(jobDir("sealed"), "run.sh");
    const st = statSync(run);
    writeFileSync(run, "#!/bin/sh\necho RUN\n");
    execFileSync("touch", ["-m", "-d", `@${st.mtimeMs / 1000}`, run]);
    const repaired = await listing(resealed);
    assert.deepEqual([repaired.listing, repaired.sent, repaired.repaired], ["full", ["run.sh"], ["run.sh"]]);
    assert.equal(readFileSync(run, "utf8"), "#!/bin/sh\necho run\n");
    const after = sealOf({ ...first, jobs: [repaired] }, files);
    assert.equal((await listing(after)).listing, "sealed");
    // A file added to the job directory breaks it too (listed in full; unknown files are left alone).
    writeFileSync(join(jobDir("sealed"), "extra.txt"), "x\n");
    const extra = await listing(after);
    assert.deepEqual([extra.listing, extra.sent], ["full", []]);
    // Taking the job off removes its seal with its manifest.
    await removeJob(pool, ip, BUCKET, "sealed");
    assert.equal(existsSync(sealFile), false);
  });

  it("a one-file change sends that file only, by rename (new inode), leaving the others untouched", async () => {
    const beforeSeen = tree(jobDir("web"));
    const files = base().map((f) => (f.path === "conf/app.conf" ? file(f.path, "port = 2\n", 0o600) : f));
    const r = await syncWorker(pool, { host: ip, bucketId: BUCKET, jobs: [{ job: "web", files }] });
    assert.deepEqual(r.jobs[0].sent, ["conf/app.conf"]);
    assert.equal(r.jobs[0].bytes, "port = 2\n".length);
    const seen = tree(jobDir("web"));
    assert.equal(seen["conf/app.conf"].content, "port = 2\n");
    assert.equal(seen["conf/app.conf"].mode, 0o600);
    assert.notEqual(seen["conf/app.conf"].ino, beforeSeen["conf/app.conf"].ino, "replaced by a rename, not rewritten in place");
    for (const p of ["Makefile", "run.sh", "conf/deep/a/b.txt"]) assert.equal(seen[p].ino, beforeSeen[p].ino, `${p} not rewritten`);
  });

  it("an open reader of a replaced file keeps reading the complete old content (no partial file is ever visible)", async () => {
    const big = (c: string) => file("big.bin", Buffer.alloc(4 * 1024 * 1024, c));
    await syncWorker(pool, { host: ip, bucketId: BUCKET, jobs: [{ job: "atomic", files: [big("a")] }] });
    const fd = openSync(join(jobDir("atomic"), "big.bin"), "r");
    try {
      await syncWorker(pool, { host: ip, bucketId: BUCKET, jobs: [{ job: "atomic", files: [big("b")] }] });
      const buf = Buffer.alloc(4 * 1024 * 1024 + 1);
      const n = readSync(fd, buf, 0, buf.length, 0);
      assert.equal(n, 4 * 1024 * 1024);
      assert.ok(buf.subarray(0, n).every((x) => x === 0x61), "the old file, whole");
    } finally {
      closeSync(fd);
    }
    assert.ok(readFileSync(join(jobDir("atomic"), "big.bin")).every((x) => x === 0x62));
  });

  it("verifies every file before changing anything: a corrupt file fails the sync and leaves the job as it was", async () => {
    const beforeSeen = tree(jobDir("web"));
    const good = file("Makefile", "start:\n\techo changed\n");
    const corrupt = { ...file("conf/app.conf", "port = 3\n", 0o600), hash: file("x", "something else").hash };
    const files = base().map((f) => (f.path === "Makefile" ? good : f.path === "conf/app.conf" ? corrupt : f));
    const err = await rejection(syncWorker(pool, { host: ip, bucketId: BUCKET, jobs: [{ job: "web", files }] }));
    assert.ok(err instanceof WorkerStepFailed, String(err));
    assert.match(err.message, /conf\/app\.conf arrived with sha256/);
    assert.deepEqual(tree(jobDir("web")), beforeSeen, "not even the good file was applied");
    assert.deepEqual(readdirSync(join(set.workers[0].optDir, BUCKET)).filter((n) => n.startsWith(".maand-staging")), [], "staging removed");
  });

  it("a worker dying mid-transfer leaves the job as it was; the next sync completes and clears the abandoned staging", async () => {
    const i = 1;
    const host = set.workers[i].ip;
    const files = base();
    await syncWorker(pool, { host, bucketId: BUCKET, jobs: [{ job: "web", files }] });
    const beforeSeen = tree(jobDir("web", i));
    const root = join(set.workers[i].optDir, BUCKET);
    const huge = [...files.map((f) => (f.path === "Makefile" ? file("Makefile", "new\n") : f)), file("huge.bin", Buffer.alloc(200 * 1024 * 1024, 1))];
    const staging = () => readdirSync(root).filter((n) => n.startsWith(".maand-staging-"));
    const running = rejection(syncWorker(pool, { host, bucketId: BUCKET, jobs: [{ job: "web", files: huge }] }));
    await waitFor(() => staging().some((d) => readdirSync(join(root, d)).length > 0), 20_000, "the transfer to start");
    await set.kill(i);
    const err = await running;
    assert.ok(err instanceof WorkerUnreachable && err.host === host, String(err));
    assert.deepEqual(tree(jobDir("web", i)), beforeSeen, "nothing was applied");
    // A sync killed outright (no chance to clean up) leaves its staging directory; plant one for
    // a pid that cannot exist, since whether the killed one got to clean up is a race.
    mkdirSync(join(root, ".maand-staging-2147483646", "sub"), { recursive: true });
    writeFileSync(join(root, ".maand-staging-2147483646", "sub", "0"), "partial");
    await set.start(i);
    const r = await syncWorker(pool, { host, bucketId: BUCKET, jobs: [{ job: "web", files: huge.slice(0, -1) }] });
    assert.deepEqual(r.jobs[0].sent, ["Makefile"]);
    assert.deepEqual(staging(), []);
  });

  it("Ctrl-C mid-transfer stops the worker-side step, which removes its staging and changes nothing", async () => {
    const files = base();
    await syncWorker(pool, { host: ip, bucketId: BUCKET, jobs: [{ job: "aborted", files }] });
    const beforeSeen = tree(jobDir("aborted"));
    const root = join(set.workers[0].optDir, BUCKET);
    const staging = () => readdirSync(root).filter((n) => n.startsWith(".maand-staging-"));
    const huge = [...files, file("huge.bin", Buffer.alloc(200 * 1024 * 1024, 2))];
    const ac = new AbortController();
    const running = rejection(syncWorker(pool, { host: ip, bucketId: BUCKET, jobs: [{ job: "aborted", files: huge }], signal: ac.signal }));
    await waitFor(() => staging().some((d) => readdirSync(join(root, d)).length > 0), 20_000, "the transfer to start");
    ac.abort();
    assert.ok((await running) instanceof CommandInterrupted);
    await waitFor(() => staging().length === 0, 10_000, "the staging directory to be removed");
    assert.deepEqual(tree(jobDir("aborted")), beforeSeen);
  });

  it("propagates deletions (pruning emptied directories) and mode-only changes without resending content", async () => {
    const files = base()
      .filter((f) => f.path !== "conf/deep/a/b.txt")
      .map((f) => (f.path === "conf/app.conf" ? file(f.path, "port = 2\n", 0o600) : f.path === "run.sh" ? { ...f, mode: 0o700 } : f));
    const r = await syncWorker(pool, { host: ip, bucketId: BUCKET, jobs: [{ job: "web", files }] });
    assert.deepEqual(r.jobs[0].deleted, ["conf/deep/a/b.txt"]);
    assert.deepEqual(r.jobs[0].chmod, ["run.sh"]);
    assert.deepEqual(r.jobs[0].sent, []);
    assert.ok(!existsSync(join(jobDir("web"), "conf/deep")), "emptied directories pruned");
    assert.equal(statSync(join(jobDir("web"), "run.sh")).mode & 0o777, 0o700);
    const again = await syncWorker(pool, { host: ip, bucketId: BUCKET, jobs: [{ job: "web", files }] });
    assert.deepEqual([again.wireBytes, again.jobs[0].chmod, again.jobs[0].listing], [0, [], "full"], "the chmod was recorded in the manifest");
  });

  it("repairs files changed or deleted on the worker behind maand's back, even with the mtime put back", async () => {
    const files = base();
    await syncWorker(pool, { host: ip, bucketId: BUCKET, jobs: [{ job: "tamper", files }] });
    const dir = jobDir("tamper");
    const mf = join(dir, "Makefile");
    const st = statSync(mf, { bigint: true });
    const mtime = execFileSync("stat", ["-c", "%y", mf], { encoding: "utf8" }).trim();
    writeFileSync(mf, "start:\n\techo EVIL\n".slice(0, Number(st.size)).padEnd(Number(st.size), "#"));
    execFileSync("touch", ["-m", "-d", mtime, mf]);
    const now = statSync(mf, { bigint: true });
    // Same inode, size, mode and nanosecond mtime: only ctime tells.
    assert.deepEqual([now.ino, now.size, now.mode, now.mtimeNs], [st.ino, st.size, st.mode, st.mtimeNs]);
    rmSync(join(dir, "run.sh"));
    const r = await syncWorker(pool, { host: ip, bucketId: BUCKET, jobs: [{ job: "tamper", files }] });
    assert.deepEqual(r.jobs[0].repaired.sort(), ["Makefile", "run.sh"]);
    assert.deepEqual(r.jobs[0].sent.sort(), ["Makefile", "run.sh"]);
    const seen = tree(dir);
    assert.equal(seen["Makefile"].content, "start:\n\techo start\n");
    assert.equal(seen["run.sh"].mode, 0o755);
  });

  it("never touches the job's data/, logs/ and bin/, refuses input under them, and removal keeps data/ and logs/", async () => {
    const dir = jobDir("stateful");
    await syncWorker(pool, { host: ip, bucketId: BUCKET, jobs: [{ job: "stateful", files: base() }] });
    for (const d of ["data", "logs", "bin"]) {
      mkdirSync(join(dir, d, "sub"), { recursive: true });
      writeFileSync(join(dir, d, "sub", "keep.txt"), `${d} state\n`);
    }
    const protectedBefore = Object.fromEntries(Object.entries(tree(dir)).filter(([p]) => /^(data|logs|bin)\//.test(p)));
    // Changes and deletions elsewhere in the job leave them alone.
    await syncWorker(pool, { host: ip, bucketId: BUCKET, jobs: [{ job: "stateful", files: [file("Makefile", "x\n")] }] });
    const after1 = tree(dir);
    assert.deepEqual(Object.fromEntries(Object.entries(after1).filter(([p]) => /^(data|logs|bin)\//.test(p))), protectedBefore);
    assert.deepEqual(Object.keys(after1).filter((p) => !/^(data|logs|bin)\//.test(p)), ["Makefile"]);

    const err = await rejection(syncWorker(pool, { host: ip, bucketId: BUCKET, jobs: [{ job: "stateful", files: [file("data/seed.db", "x"), file("bin", "x"), file("../escape", "x")] }] }));
    assert.ok(err instanceof SyncInputError, String(err));
    assert.match(err.message, /data\/seed\.db/);
    assert.match(err.message, /bin: bin\/ belongs to the worker/);
    assert.match(err.message, /"\.\.\/escape"/);

    await removeJob(pool, ip, BUCKET, "stateful");
    const left = tree(dir);
    assert.deepEqual(Object.keys(left).sort(), ["data/sub/keep.txt", "logs/sub/keep.txt"]);
    assert.ok(!existsSync(join(set.workers[0].optDir, BUCKET, MANIFESTS_DIR, "stateful.json")));
  });

  it("refuses to write through a symlink planted in the job directory", async () => {
    const dir = jobDir("links");
    await syncWorker(pool, { host: ip, bucketId: BUCKET, jobs: [{ job: "links", files: [file("conf/a.conf", "a\n")] }] });
    const outside = join(set.workers[0].optDir, "outside");
    mkdirSync(outside, { recursive: true });
    rmSync(join(dir, "conf"), { recursive: true });
    symlinkSync("/opt/worker/outside", join(dir, "conf"));
    const err = await rejection(syncWorker(pool, { host: ip, bucketId: BUCKET, jobs: [{ job: "links", files: [file("conf/a.conf", "a\n"), file("conf/b.conf", "b\n")] }] }));
    assert.ok(err instanceof WorkerStepFailed, String(err));
    assert.match(err.message, /symlink/);
    assert.deepEqual(readdirSync(outside), []);
  });

  it("writes worker.json, jobs.json and bin/runner.py in the same round-trip as the files, and only when they changed", async () => {
    const layout = { worker: { worker_ip: ip, worker_id: "w-1", labels: ["web"] }, updateSeq: 7, jobs: { web: { current_version: "1.0.0", new_version: "1.1.0" } } };
    const r = await syncWorker(pool, { host: ip, bucketId: BUCKET, jobs: [{ job: "web2", files: [file("Makefile", "x:\n")] }], layout });
    assert.equal(r.roundTrips, 2);
    assert.deepEqual(r.layout.sort(), ["bin/runner.py", "jobs.json", "worker.json"]);
    const root = join(set.workers[0].optDir, BUCKET);
    assert.deepEqual(JSON.parse(readFileSync(join(root, "worker.json"), "utf8")), { worker_ip: ip, worker_id: "w-1", labels: ["web"], update_seq: 7 });
    assert.deepEqual(JSON.parse(readFileSync(join(root, "jobs.json"), "utf8")), layout.jobs);
    assert.equal(readFileSync(join(root, "bin/runner.py"), "utf8"), pool.scripts.runner);
    assert.equal(statSync(join(root, "bin/runner.py")).mode & 0o777, 0o755);

    const same = await writeLayout(pool, ip, BUCKET, layout);
    assert.deepEqual(same.layout, []);
    assert.equal(same.roundTrips, 1);
    assert.equal(same.previousUpdateSeq, 7);
    const next = await writeLayout(pool, ip, BUCKET, { ...layout, updateSeq: 8 });
    assert.deepEqual(next.layout, ["worker.json"]);
    assert.equal(JSON.parse(readFileSync(join(root, "worker.json"), "utf8")).update_seq, 8);
  });

  it("syncs many workers in parallel and reports a down worker by address without failing the others", async () => {
    await set.kill(2);
    try {
      const reqs = set.workers.map((w) => ({ host: w.ip, bucketId: BUCKET, jobs: [{ job: "fleet", files: base() }] }));
      const outcomes = await syncWorkers(pool, reqs);
      assert.deepEqual(outcomes.map((o) => o.host), set.workers.map((w) => w.ip));
      assert.ok(outcomes[0].result && outcomes[1].result, `${outcomes[0].error} ${outcomes[1].error}`);
      assert.equal(outcomes[1].result.jobs[0].sent.length, base().length);
      assert.ok(outcomes[2].error instanceof WorkerUnreachable && outcomes[2].error.host === set.workers[2].ip, String(outcomes[2].error));
      assert.equal(tree(jobDir("fleet", 1))["Makefile"].content, base()[0].content.toString());
    } finally {
      await set.start(2);
    }
  });
});
