import { test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openDb } from "../../server/store/db.js";
import { KvStore, type KvRow } from "../../server/store/kv.js";
import { KvSession } from "../../server/store/kv-session.js";
import { SecretCipher, SecretDecryptError } from "../../server/store/secrets-cipher.js";
import { isEncryptedAtRest } from "../../server/kv/namespaces.js";
import { latestKvRows } from "../../server/store/catalog.js";

function fixture(now = { t: 1_000_000 }) {
  const dir = mkdtempSync(join(tmpdir(), "maand-kv-"));
  const db = openDb(join(dir, "maand.db"));
  const key = randomBytes(32);
  const kv = new KvStore(db, () => SecretCipher.fromKey(key), { now: () => now.t });
  return { db, kv, now, key, cleanup: () => (db.close(), rmSync(dir, { recursive: true, force: true })) };
}

test("every write is a new version and a delete is a tombstone", (t) => {
  const f = fixture();
  t.after(f.cleanup);
  f.kv.put("vars/job/api", "a", "1");
  f.kv.put("vars/job/api", "a", "2");
  assert.equal(f.kv.get("vars/job/api", "a"), "2");
  assert.equal(f.kv.delete("vars/job/api", "a"), true);
  assert.equal(f.kv.get("vars/job/api", "a"), undefined);
  assert.equal(f.kv.delete("vars/job/api", "a"), false, "deleting an absent key writes nothing");
  const rows = f.db.prepare("SELECT version, value, deleted FROM kv ORDER BY version").all();
  assert.deepEqual(rows, [
    { version: 1, value: "1", deleted: 0 },
    { version: 2, value: "2", deleted: 0 },
    { version: 3, value: "", deleted: 1 },
  ]);
  f.kv.put("vars/job/api", "a", "back");
  assert.equal(f.kv.get("vars/job/api", "a"), "back");
});

test("a TTL key reads as absent the moment it expires", (t) => {
  const f = fixture();
  t.after(f.cleanup);
  f.kv.put("vars/job/api", "tmp", "x", 10);
  f.kv.put("vars/job/api", "keep", "y");
  f.now.t += 9_999;
  assert.equal(f.kv.get("vars/job/api", "tmp"), "x");
  f.now.t += 1;
  assert.equal(f.kv.get("vars/job/api", "tmp"), undefined);
  assert.deepEqual(f.kv.keys("vars/job/api"), ["keep"]);
});

test("secrets are stored only as ciphertext, bound to namespace and key", (t) => {
  const f = fixture();
  t.after(f.cleanup);
  f.kv.put("secrets/job/api", "db_password", "hunter2-very-secret");
  const row = f.db.prepare("SELECT * FROM kv WHERE namespace = 'secrets/job/api'").get() as KvRow;
  assert.equal(row.encrypted, 1);
  assert.ok(!row.value.includes("hunter2"), "plaintext must not be stored");
  assert.equal(f.kv.get("secrets/job/api", "db_password"), "hunter2-very-secret");

  // Two writes of the same value never produce the same ciphertext (fresh nonce).
  f.kv.put("secrets/job/api", "db_password", "hunter2-very-secret");
  const [a, b] = f.db.prepare("SELECT value FROM kv WHERE namespace = 'secrets/job/api' ORDER BY version").all() as { value: string }[];
  assert.notEqual(a!.value, b!.value);

  // A ciphertext moved to another key fails authentication instead of decrypting.
  f.db.prepare("INSERT INTO kv (namespace, key, version, value, ttl, created_at, deleted, encrypted) VALUES ('secrets/job/web', 'db_password', 1, ?, 0, 0, 0, 1)").run(row.value);
  assert.throws(() => f.kv.get("secrets/job/web", "db_password"), SecretDecryptError);
});

test("a tampered secret row or a wrong key is an error, never garbage", (t) => {
  const f = fixture();
  t.after(f.cleanup);
  f.kv.put("secrets/job/api", "token", "abc");
  const row = f.kv.latest("secrets/job/api", "token")!;
  const [fmt, nonce, data] = row.value.split(":");
  const bytes = Buffer.from(data!, "base64");
  bytes[0]! ^= 1;
  f.db.prepare("UPDATE kv SET value = ? WHERE namespace = ? AND key = ?").run(`${fmt}:${nonce}:${bytes.toString("base64")}`, "secrets/job/api", "token");
  assert.throws(() => f.kv.get("secrets/job/api", "token"), /cannot decrypt secret secrets\/job\/api\/token/);

  f.kv.put("secrets/job/api", "other", "v");
  const wrong = new KvStore(f.db, () => SecretCipher.fromKey(randomBytes(32)), { now: () => f.now.t });
  assert.throws(() => wrong.get("secrets/job/api", "other"), SecretDecryptError);
  assert.throws(() => SecretCipher.fromKey(randomBytes(16)), /exactly 32 bytes/);
  assert.throws(() => SecretCipher.fromFile("/nonexistent/kv.key"), /cannot read the KV secret key/);
});

test("a session's writes are visible at once and reach the db only on commit", (t) => {
  const f = fixture();
  t.after(f.cleanup);
  f.kv.put("vars/job/api", "base", "0");
  const s = new KvSession(f.kv);
  s.put("vars/job/api", "a", "1");
  s.put("secrets/job/api", "s", "shh");
  assert.equal(s.delete("vars/job/api", "base"), true);
  assert.equal(s.get("vars/job/api", "a"), "1");
  assert.equal(s.get("vars/job/api", "base"), undefined);
  assert.deepEqual(s.keys("vars/job/api"), ["a"]);
  assert.equal(f.kv.get("vars/job/api", "a"), undefined, "nothing persisted before commit");
  assert.equal(f.kv.get("vars/job/api", "base"), "0");

  s.rollback();
  assert.equal(s.get("vars/job/api", "base"), "0");
  assert.equal(s.dirty, false);

  s.put("vars/job/api", "a", "1");
  s.put("secrets/job/api", "s", "shh");
  assert.equal(s.commit(), 2);
  assert.equal(f.kv.get("vars/job/api", "a"), "1");
  assert.equal(f.kv.get("secrets/job/api", "s"), "shh");
  const raw = f.db.prepare("SELECT value FROM kv WHERE namespace='secrets/job/api'").get() as { value: string };
  assert.ok(!raw.value.includes("shh"));
});

test("session TTL writes expire inside the session too", (t) => {
  const f = fixture();
  t.after(f.cleanup);
  const s = new KvSession(f.kv);
  s.put("vars/job/api", "t", "v", 5);
  f.now.t += 5_000;
  assert.equal(s.get("vars/job/api", "t"), undefined);
  assert.deepEqual(s.keys("vars/job/api"), []);
});

test("certificates' private keys are encrypted at rest like secrets; nothing else is", (t) => {
  const f = fixture();
  t.after(f.cleanup);
  const ns = "maand/job/api/worker/10.0.0.1";
  const cases: Array<[string, string, boolean]> = [
    [ns, "certs/server.key", true],
    [ns, "certs/my.tls-1.key", true],
    ["secrets/job/api", "anything", true],
    [ns, "certs/server.crt", false],
    [ns, "certs/.key", false],
    [ns, "certs/a/b.key", false],
    [ns, "server.key", false],
    ["maand/job/api", "certs/server.key", false],
    [`${ns}/x`, "certs/server.key", false],
    ["maand/worker", "certs/ca.crt", false],
    ["vars/job/api", "certs/server.key", false],
  ];
  for (const [namespace, key, secret] of cases) assert.equal(isEncryptedAtRest(namespace, key), secret, `${namespace} ${key}`);

  f.kv.put(ns, "certs/server.key", "-----BEGIN PRIVATE KEY-----\nabc\n");
  f.kv.put(ns, "certs/server.crt", "-----BEGIN CERTIFICATE-----\n");
  const key = f.kv.latest(ns, "certs/server.key")!;
  assert.equal(key.encrypted, 1);
  assert.ok(!key.value.includes("PRIVATE KEY"));
  assert.equal(f.kv.latest(ns, "certs/server.crt")!.encrypted, 0);
  assert.equal(f.kv.get(ns, "certs/server.key"), "-----BEGIN PRIVATE KEY-----\nabc\n");
  assert.deepEqual(f.kv.entries(ns).map((e) => e.value), ["-----BEGIN CERTIFICATE-----\n", "-----BEGIN PRIVATE KEY-----\nabc\n"]);
  f.kv.delete(ns, "certs/server.key");
  assert.equal(f.kv.latest(ns, "certs/server.key")!.encrypted, 0, "a tombstone has nothing to encrypt");
});

test("latestKvRows: the newest version of every key, tombstones and expired rows included, in (namespace, key) order", (t) => {
  const f = fixture();
  t.after(f.cleanup);
  const at = (ms: number, fn: () => void) => ((f.now.t = ms), fn());
  at(1_000, () => f.kv.put("vars/job/b", "k", "v1"));
  at(2_000, () => f.kv.put("vars/job/b", "k", "v2"));
  at(3_000, () => f.kv.put("vars/job/b", "k", "v3")); // three versions: only v3 counts
  at(1_000, () => f.kv.put("vars/job/a", "gone", "x"));
  at(2_000, () => f.kv.delete("vars/job/a", "gone")); // a tombstone is the latest row
  at(3_000, () => f.kv.put("vars/job/a", "back", "1"));
  at(4_000, () => f.kv.delete("vars/job/a", "back"));
  at(5_000, () => f.kv.put("vars/job/a", "back", "2")); // written again after a tombstone
  at(1_000, () => f.kv.put("vars/job/a", "lease", "old", 1)); // expired by the time of reading
  at(1_000, () => f.kv.put("vars/job/a", "k", "same key, other namespace"));
  at(1_000, () => f.kv.put("vars/job/a", "k2", "a longer key sorts after its prefix"));
  at(6_000, () => f.kv.put("secrets/job/a", "pw", "hunter2-hunter2")); // stored encrypted
  f.now.t = 60_000;
  const rows = latestKvRows(f.db);
  const secret = f.kv.latest("secrets/job/a", "pw")!;
  assert.deepEqual(rows, [
    { namespace: "secrets/job/a", key: "pw", version: 1, value: secret.value, ttl: 0, created_at: 6_000, deleted: 0, encrypted: 1 },
    { namespace: "vars/job/a", key: "back", version: 3, value: "2", ttl: 0, created_at: 5_000, deleted: 0, encrypted: 0 },
    { namespace: "vars/job/a", key: "gone", version: 2, value: "", ttl: 0, created_at: 2_000, deleted: 1, encrypted: 0 },
    { namespace: "vars/job/a", key: "k", version: 1, value: "same key, other namespace", ttl: 0, created_at: 1_000, deleted: 0, encrypted: 0 },
    { namespace: "vars/job/a", key: "k2", version: 1, value: "a longer key sorts after its prefix", ttl: 0, created_at: 1_000, deleted: 0, encrypted: 0 },
    { namespace: "vars/job/a", key: "lease", version: 1, value: "old", ttl: 1, created_at: 1_000, deleted: 0, encrypted: 0 },
    { namespace: "vars/job/b", key: "k", version: 3, value: "v3", ttl: 0, created_at: 3_000, deleted: 0, encrypted: 0 },
  ]);
  assert.ok(!secret.value.includes("hunter2"), "the row as stored: ciphertext");
  // Every row is the one KvStore.latest reads for its key.
  for (const r of rows) assert.deepEqual(r, f.kv.latest(r.namespace, r.key), `${r.namespace} ${r.key}`);
  assert.equal(f.kv.get("vars/job/a", "lease"), undefined, "the expired row is not live, yet latestKvRows returns it");
});
