import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { once } from "node:events";
import { initBucket } from "../../server/bucket/init.js";
import { acquireBucketLock } from "../../server/store/lock.js";
import { openBucket } from "../../server/bucket/context.js";
import { readConf, DEFAULT_CONF } from "../../server/bucket/conf.js";
import { BucketError, BucketLockedError } from "../../server/errors.js";

const MAAND = resolve("bin/maand.js");
const tmp = (p = "maand-bucket-") => mkdtempSync(join(tmpdir(), p));

function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out[p] = `${statSync(p).mode.toString(8)}:${readFileSync(p).toString("base64")}`;
    }
  };
  walk(dir);
  return out;
}

test("init creates the SPEC §3 layout with 0600 key files, and a second init changes nothing", (t) => {
  const root = tmp();
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const first = spawnSync(process.execPath, [MAAND, "--bucket", root, "init"], { encoding: "utf8" });
  assert.equal(first.status, 0, first.stderr);
  assert.match(first.stdout, /initialised bucket [0-9a-f-]{36}/);
  for (const p of ["maand.conf", "data/maand.db", "workspace/workers.json", "workspace/bucket.conf", "workspace/jobs", "secrets/kv.key", "secrets/ca.crt", "secrets/ca.key", "tmp", "logs"]) {
    statSync(join(root, p));
  }
  assert.equal(statSync(join(root, "secrets/kv.key")).mode & 0o777, 0o600);
  assert.equal(statSync(join(root, "secrets/ca.key")).mode & 0o777, 0o600);
  // data/ holds the catalog (workspace contents, KV history): not for other users either
  assert.equal(statSync(join(root, "secrets")).mode & 0o777, 0o700);
  assert.equal(statSync(join(root, "data")).mode & 0o777, 0o700);
  assert.equal(readFileSync(join(root, "secrets/kv.key")).length, 32);
  assert.deepEqual(JSON.parse(readFileSync(join(root, "workspace/workers.json"), "utf8")), []);
  assert.deepEqual(readConf(join(root, "maand.conf")), DEFAULT_CONF);

  const before = snapshot(root);
  const second = spawnSync(process.execPath, [MAAND, "--bucket", root, "init"], { encoding: "utf8" });
  assert.equal(second.status, 0);
  assert.match(second.stdout, /already a maand bucket .*nothing changed/);
  assert.deepEqual(snapshot(root), before);
});

test("two buckets get different ids and keys", async (t) => {
  const a = tmp(), b = tmp();
  t.after(() => [a, b].forEach((d) => rmSync(d, { recursive: true, force: true })));
  const ra = await initBucket(a), rb = await initBucket(b);
  assert.notEqual(ra.bucketId, rb.bucketId);
  assert.notDeepEqual(readFileSync(join(a, "secrets/kv.key")), readFileSync(join(b, "secrets/kv.key")));
});

test("opening a directory that is not a bucket is a BucketError (exit 2)", (t) => {
  const root = tmp();
  t.after(() => rmSync(root, { recursive: true, force: true }));
  assert.throws(() => openBucket(root), (err: unknown) => err instanceof BucketError && err.exitCode === 2 && /not a maand bucket/.test(err.message));
});

test("init where a directory cannot be made (--bucket names a file) is a one-line BucketError, exit 2, touching nothing", (t) => {
  const dir = tmp();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, "not-a-dir");
  writeFileSync(file, "keep me\n");
  const r = spawnSync(process.execPath, [MAAND, "--bucket", file, "init"], { encoding: "utf8" });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /^maand: cannot create the bucket in .*not-a-dir: .* \(EEXIST\); pass --bucket a directory you can write to\n$/);
  assert.equal(readFileSync(file, "utf8"), "keep me\n");
  assert.deepEqual(readdirSync(dir), ["not-a-dir"]);
});

test("maand.conf errors name the setting, the value and what was expected", async (t) => {
  const root = tmp();
  t.after(() => rmSync(root, { recursive: true, force: true }));
  await initBucket(root);
  writeFileSync(join(root, "maand.conf"), 'ssh_port = "twenty-two"\nhook_api_auth = "none"\nbogus = 1\n');
  assert.throws(() => readConf(join(root, "maand.conf")), /ssh_port = "twenty-two": expected an integer from 1 to 65535; hook_api_auth = "none": expected one of "token", "headers"; unknown setting bogus/);
  writeFileSync(join(root, "maand.conf"), 'ssh_port = 22\nuse_sudo = \n');
  assert.throws(() => readConf(join(root, "maand.conf")), /maand\.conf:2:\d+: invalid TOML/);
});

test("a second mutating open fails at once naming the holder's pid", async (t) => {
  const root = tmp();
  t.after(() => rmSync(root, { recursive: true, force: true }));
  await initBucket(root);
  const ctx = openBucket(root);
  try {
    // The holder is this very thread: an open that waited for the lock could never get it, so
    // the open fails while the lock is held; a failed open leaves the holder named for the next.
    for (let i = 0; i < 2; i++) {
      assert.throws(() => openBucket(root), (err: unknown) => err instanceof BucketLockedError && err.holderPid === process.pid && err.message.includes(`pid ${process.pid}`));
    }
    // A read-only open never blocks on the lock.
    const ro = openBucket(root, { readonly: true });
    ro.close();
  } finally {
    ctx.close();
  }
  openBucket(root).close(); // released
});

test("a lock left by a kill -9'd process is taken over", async (t) => {
  const root = tmp();
  t.after(() => rmSync(root, { recursive: true, force: true }));
  await initBucket(root);
  const lockFile = join(root, "data", "maand.lock");
  const lockModule = resolve("dist/server/store/lock.js");
  const holder = spawn(process.execPath, ["--input-type=module", "-e",
    `import { acquireBucketLock } from ${JSON.stringify(lockModule)}; acquireBucketLock(${JSON.stringify(lockFile)}); console.log("held"); setInterval(() => {}, 1000);`],
    { stdio: ["ignore", "pipe", "inherit"] });
  await once(holder.stdout!, "data");
  assert.throws(() => acquireBucketLock(lockFile), (err: unknown) => err instanceof BucketLockedError && err.holderPid === holder.pid);
  holder.kill("SIGKILL");
  await once(holder, "exit");
  const lock = acquireBucketLock(lockFile); // the kernel dropped the dead holder's lock
  assert.equal(readFileSync(`${lockFile}.pid`, "utf8").trim(), String(process.pid));
  lock.release();
});
