import { afterEach, beforeEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createPrivateKey, X509Certificate } from "node:crypto";
import { writeWorkspace, type WorkspaceFixture } from "../helpers/bucket.js";
import type { BucketContext } from "../../server/bucket/context.js";
import { runBuild } from "../../server/build/run.js";
import { catKv, kvGet, PRIVATE_KEY_PLACEHOLDER } from "../../server/inspect/kv.js";
import { type KvRow } from "../../server/store/kv.js";
import { latestKvRows } from "../../server/store/catalog.js";
import { builtBucket, dumpCatalog, manualClock, threeByThree, type OpenTestBucket } from "./fixture.js";
import { isEncryptedAtRest } from "../../server/kv/namespaces.js";
import { catCerts } from "../../server/inspect/certs.js";
import { createCa } from "../../server/certs/ca.js";

const DAY = 86400_000;
type Manifest = { certs: Record<string, { subject: Record<string, string>; pkcs8?: boolean }> };

describe("build: leaf certificates (SPEC §12)", () => {
  let bucket: OpenTestBucket;
  let ctx: BucketContext;
  const clock = manualClock();

  beforeEach(async () => {
    bucket = await builtBucket(clock);
    ctx = bucket.ctx;
  });
  afterEach(() => bucket.cleanup());

  const crt = (ns: string, name: string) => ctx.kv.get(ns, `certs/${name}.crt`)!;
  const rebuild = async (change: (ws: WorkspaceFixture) => void = () => {}) => {
    const ws = threeByThree();
    change(ws);
    writeWorkspace(bucket.root, ws);
    return runBuild(ctx);
  };

  it("valid for certs_ttl days; reused until certs_ttl - certs_renewal_buffer, then renewed", async () => {
    const before = crt("maand/job/api/worker/10.0.0.1", "server");
    const x = new X509Certificate(before);
    assert.equal(new Date(x.validTo).getTime() - new Date(x.validFrom).getTime(), 60 * DAY + 60_000);

    clock.advance(49 * DAY);
    let r = await rebuild();
    assert.deepEqual(r.summary.certs, { issued: 0, reused: 3 });
    assert.equal(crt("maand/job/api/worker/10.0.0.1", "server"), before);

    clock.advance(2 * DAY);
    r = await rebuild();
    assert.deepEqual(r.summary.certs, { issued: 3, reused: 0 });
    assert.notEqual(crt("maand/job/api/worker/10.0.0.1", "server"), before);
    assert.equal(r.summary.kv.written, 6, "a .crt and a .key per renewed cert, nothing else");
  });

  it("a changed subject or key format reissues only the certs concerned", async () => {
    const cache = crt("maand/job/cache/worker/10.0.0.3", "tls");
    const r = await rebuild((ws) => {
      (ws.jobs!.api!.manifest as Manifest).certs.server!.subject.common_name = "api.internal";
    });
    assert.deepEqual(r.summary.certs, { issued: 2, reused: 1 });
    assert.match(new X509Certificate(crt("maand/job/api/worker/10.0.0.2", "server")).subject, /CN=api.internal/);
    assert.equal(crt("maand/job/cache/worker/10.0.0.3", "tls"), cache);

    const r2 = await rebuild((ws) => {
      (ws.jobs!.api!.manifest as Manifest).certs.server!.subject.common_name = "api.internal";
      (ws.jobs!.cache!.manifest as Manifest).certs.tls!.pkcs8 = false;
    });
    assert.deepEqual(r2.summary.certs, { issued: 1, reused: 2 });
    assert.match(ctx.kv.get("maand/job/cache/worker/10.0.0.3", "certs/tls.key")!, /^-----BEGIN EC PRIVATE KEY-----/);
  });

  it("unusual subjects (escaped characters, other attributes) are recognised and reused too", async () => {
    const subject = { common_name: "Api Server, EU+1", email_address: "ops@example.com", locality: "Zürich" };
    const change = (ws: WorkspaceFixture) => ((ws.jobs!.api!.manifest as Manifest).certs.server!.subject = subject);
    assert.deepEqual((await rebuild(change)).summary.certs, { issued: 2, reused: 1 });
    const x = new X509Certificate(crt("maand/job/api/worker/10.0.0.1", "server"));
    assert.match(x.subject, /CN=Api Server\\, EU\\\+1/);
    assert.deepEqual((await rebuild(change)).summary.certs, { issued: 0, reused: 3 });
  });

  it("a cert dropped from the manifest is tombstoned", async () => {
    await rebuild((ws) => delete (ws.jobs!.cache!.manifest as Partial<Manifest>).certs);
    assert.deepEqual(ctx.kv.keys("maand/job/cache/worker/10.0.0.3"), ["cache_allocation_index", "peer_workers", "version"]);
  });

  it("an unknown subject field fails the build before anything is written", async () => {
    const before = dumpCatalog(ctx.paths.db);
    await assert.rejects(
      rebuild((ws) => {
        (ws.jobs!.api!.manifest as Manifest).certs.server!.subject.flavour = "x";
        ws.bucketConf = 'env = "changed"\n';
      }),
      /workspace\/jobs\/api\/manifest\.json: \$\.certs\.server\.subject\.flavour: "x" is not a subject field; expected one of common_name/,
    );
    assert.deepEqual(dumpCatalog(ctx.paths.db), before);
  });
});

describe("build: certificates' private keys are encrypted at rest (SPEC §6, §12)", () => {
  let bucket: OpenTestBucket;
  let ctx: BucketContext;
  const clock = manualClock();
  const NS1 = "maand/job/api/worker/10.0.0.1";

  beforeEach(async () => {
    bucket = await builtBucket(clock);
    ctx = bucket.ctx;
  });
  afterEach(() => bucket.cleanup());

  const certRows = (): KvRow[] =>
    latestKvRows(ctx.db).filter((r) => r.namespace.startsWith("maand/job/") && r.key.startsWith("certs/"));

  it("stores every certs/<name>.key encrypted and every .crt in clear; KV reads return the PEM", () => {
    const rows = certRows();
    assert.equal(rows.length, 6, "api on .1 .2 and cache on .3, a .crt and a .key each");
    for (const r of rows) {
      const isKey = r.key.endsWith(".key");
      assert.equal(r.encrypted, isKey ? 1 : 0, `${r.namespace} ${r.key}`);
      assert.equal(isEncryptedAtRest(r.namespace, r.key), isKey);
      if (!isKey) continue;
      assert.ok(!r.value.includes("PRIVATE KEY"), "no PEM in maand.db");
      const pem = ctx.kv.get(r.namespace, r.key)!;
      assert.match(pem, /^-----BEGIN (EC )?PRIVATE KEY-----/);
      const crt = new X509Certificate(ctx.kv.get(r.namespace, r.key.replace(/\.key$/, ".crt"))!);
      assert.ok(crt.checkPrivateKey(createPrivateKey(pem)), "the decrypted key belongs to its certificate");
    }
    const raw = ctx.db.prepare("SELECT group_concat(value, '') AS v FROM kv").get() as { v: string };
    assert.ok(!raw.v.includes("PRIVATE KEY"), "no version of any row holds a PEM key");
  });

  it("a rebuild reuses the certs and writes zero KV rows", async () => {
    const before = dumpCatalog(ctx.paths.db);
    const r = await runBuild(ctx);
    assert.deepEqual(r.summary.certs, { issued: 0, reused: 3 });
    assert.deepEqual(r.summary.kv, { written: 0, tombstoned: 0 });
    assert.deepEqual(dumpCatalog(ctx.paths.db), before);
  });

  it("a private key stored in clear (a catalog built before keys were encrypted) is rewritten encrypted, cert kept", async () => {
    const pem = ctx.kv.get(NS1, "certs/server.key")!;
    const crt = ctx.kv.get(NS1, "certs/server.crt")!;
    const prev = ctx.kv.latest(NS1, "certs/server.key")!;
    ctx.db
      .prepare("INSERT INTO kv (namespace, key, version, value, ttl, created_at, deleted, encrypted) VALUES (?, ?, ?, ?, 0, ?, 0, 0)")
      .run(NS1, "certs/server.key", prev.version + 1, pem, clock.now());

    clock.advance(1000);
    const r = await runBuild(ctx);
    assert.deepEqual(r.summary.certs, { issued: 0, reused: 3 }, "the clear key is still a valid key of its cert");
    assert.deepEqual(r.summary.kv, { written: 1, tombstoned: 0 });
    const row = ctx.kv.latest(NS1, "certs/server.key")!;
    assert.deepEqual([row.version, row.encrypted, row.created_at], [prev.version + 2, 1, clock.now()]);
    assert.ok(!row.value.includes("PRIVATE KEY"));
    assert.equal(ctx.kv.get(NS1, "certs/server.key"), pem);
    assert.equal(ctx.kv.get(NS1, "certs/server.crt"), crt);

    assert.deepEqual((await runBuild(ctx)).summary.kv, { written: 0, tombstoned: 0 }, "and then it stays");
  });

  it("cat kv masks the keys; kv get needs --reveal and then prints the PEM", () => {
    const keys = catKv(ctx.kv).filter((r) => r.key.endsWith(".key") && r.namespace.startsWith("maand/job/"));
    assert.equal(keys.length, 3);
    for (const r of keys) assert.deepEqual([r.value, r.encrypted], [PRIVATE_KEY_PLACEHOLDER, 1]);
    assert.throws(() => kvGet(ctx.kv, NS1, "certs/server.key", false), /is secret and is not printed; add --reveal/);
    assert.match(kvGet(ctx.kv, NS1, "certs/server.key", true), /^-----BEGIN EC PRIVATE KEY-----/);
  });
});

describe("maand cat certs (SPEC §12)", () => {
  let bucket: OpenTestBucket;
  let ctx: BucketContext;
  const clock = manualClock();

  beforeEach(async () => {
    bucket = await builtBucket(clock);
    ctx = bucket.ctx;
  });
  afterEach(() => bucket.cleanup());

  it("lists the CA and every leaf, read from the certificates: subject, SANs, not-after, days left", () => {
    clock.advance(10 * DAY);
    const rows = catCerts(ctx.kv);
    // The CA comes from init (wall clock), the leaves from builds (this test's clock).
    const caDays = Math.floor((new Date(new X509Certificate(ctx.kv.get("maand/worker", "certs/ca.crt")!).validTo).getTime() - clock.now()) / DAY);
    assert.deepEqual(
      rows.map((r) => [r.job, r.worker_ip, r.name, r.sans.join(","), r.days_left, r.signed_by_ca]),
      [
        ["", "", "ca", "", caDays, true],
        ["api", "10.0.0.1", "server", "IP:10.0.0.1", 50, true],
        ["api", "10.0.0.2", "server", "IP:10.0.0.2", 50, true],
        ["cache", "10.0.0.3", "tls", "IP:10.0.0.3", 50, true],
      ],
    );
    assert.equal(rows[1]!.subject, "CN=api, O=maand");
    assert.match(rows[0]!.subject, /^CN=maand bucket /);
    assert.equal(rows[1]!.not_after, new Date(new X509Certificate(ctx.kv.get("maand/job/api/worker/10.0.0.1", "certs/server.crt")!).validTo).toISOString());
  });

  it("--jobs and --workers narrow to leaves; an unknown name is an error listing the known ones", () => {
    assert.deepEqual(catCerts(ctx.kv, { jobs: ["cache"] }).map((r) => `${r.job}@${r.worker_ip}`), ["cache@10.0.0.3"]);
    assert.deepEqual(catCerts(ctx.kv, { workers: ["10.0.0.2"] }).map((r) => `${r.job}@${r.worker_ip}`), ["api@10.0.0.2"]);
    assert.throws(() => catCerts(ctx.kv, { jobs: ["nope"] }), /--jobs nope: unknown job \(known: api, cache, db\)/);
    assert.throws(() => catCerts(ctx.kv, { workers: ["10.9.9.9"] }), /--workers 10\.9\.9\.9: unknown worker/);
  });

  it("a leaf not signed by the bucket CA, and a PEM that does not parse, are flagged, not hidden", async () => {
    const foreign = await createCa("someone-else");
    ctx.kv.put("maand/job/api/worker/10.0.0.1", "certs/server.crt", foreign.certPem);
    ctx.kv.put("maand/job/api/worker/10.0.0.2", "certs/server.crt", "not a certificate");
    const rows = catCerts(ctx.kv, { jobs: ["api"] });
    assert.equal(rows[0]!.signed_by_ca, false);
    assert.equal(rows[1]!.signed_by_ca, false);
    assert.match(rows[1]!.error!, /does not parse/);
  });

  it("never shows a private key", () => {
    const text = JSON.stringify(catCerts(ctx.kv));
    assert.ok(!text.includes("PRIVATE KEY"));
  });
});
