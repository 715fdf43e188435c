import { afterEach, beforeEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { makeBucket, writeWorkspace, type WorkspaceFixture } from "../helpers/bucket.js";
import { openBucket, type BucketContext } from "../../server/bucket/context.js";
import { runBuild } from "../../server/build/run.js";
import { dumpCatalog, manualClock, threeByThree } from "./fixture.js";

const DAY = 86400_000;
type Manifest = { certs: Record<string, { subject: Record<string, string>; pkcs8?: boolean }> };

describe("build: leaf certificates (SPEC §12)", () => {
  let bucket: { root: string; cleanup(): void };
  let ctx: BucketContext;
  const clock = manualClock();

  beforeEach(async () => {
    bucket = await makeBucket();
    writeWorkspace(bucket.root, threeByThree());
    ctx = openBucket(bucket.root, { clock });
    await runBuild(ctx);
  });
  afterEach(() => {
    ctx.close();
    bucket.cleanup();
  });

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
      /workspace\/jobs\/api\/manifest\.json: \$\.certs\.server\.subject\.flavour: expected one of common_name/,
    );
    assert.deepEqual(dumpCatalog(ctx.paths.db), before);
  });
});
