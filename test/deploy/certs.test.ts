import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { testWorkersUnavailable } from "../workers/workers.js";
import type { WorkspaceFixture } from "../helpers/bucket.js";
import { deployBucket, recordingJob, type DeployBucket } from "./fixture.js";

const skip = testWorkersUnavailable();

/** `openssl verify` of the worker's copies, run on this host against the worker's files. */
function verifyOnWorker(b: DeployBucket, i: number): string {
  const dir = b.onWorker(i, "jobs/tls/certs");
  return execFileSync("openssl", ["verify", "-CAfile", join(dir, "ca.crt"), join(dir, "server.crt")], { encoding: "utf8" });
}

describe("deploy stages each allocation's certs from KV (issue 12 point 9)", { skip }, () => {
  let b: DeployBucket;
  let ws: WorkspaceFixture;
  const conf = () => join(b.root, "maand.conf");
  const setRenewalBuffer = (days: number) => writeFileSync(conf(), readFileSync(conf(), "utf8").replace(/^certs_renewal_buffer\s*=.*$/m, `certs_renewal_buffer = ${days}`));

  before(async () => {
    b = await deployBucket(2);
    ws = {
      workers: b.ips.map((host) => ({ host, labels: ["worker"] })),
      jobs: {
        tls: recordingJob(b.recordFile, {
          manifest: { certs: { server: { subject: { common_name: "tls" } } } },
          files: { "tls.conf.tpl": "cert={{ .JobPath }}/certs/server.crt\n" },
        }),
      },
    };
    b.build(ws);
  });
  after(async () => {
    await b?.cleanup();
  });

  it("certs/<name>.crt|.key (key 0600) and ca.crt on the worker; the leaf verifies against the CA with openssl", () => {
    const r = b.deploy();
    assert.equal(r.status, 0, r.stderr);
    for (let i = 0; i < 2; i++) {
      assert.equal(statSync(b.onWorker(i, "jobs/tls/certs/server.key")).mode & 0o777, 0o600);
      assert.equal(statSync(b.onWorker(i, "jobs/tls/certs/server.crt")).mode & 0o777, 0o644);
      assert.equal(readFileSync(b.onWorker(i, "jobs/tls/certs/ca.crt"), "utf8"), readFileSync(join(b.root, "secrets", "ca.crt"), "utf8"));
      assert.match(verifyOnWorker(b, i), /server\.crt: OK/);
      const san = execFileSync("openssl", ["x509", "-noout", "-ext", "subjectAltName", "-in", b.onWorker(i, "jobs/tls/certs/server.crt")], { encoding: "utf8" });
      assert.match(san, new RegExp(`IP Address:${b.ips[i]!.replace(/\./g, "\\.")}\\b`), "the leaf is this worker's");
    }
    const again = b.deploy();
    assert.deepEqual(again.plan!.counts.skip, 2, "certs and rendered templates hash the same at plan and apply time");
  });

  it("a renewed cert rolls the allocation like any content change, and the new leaf verifies", () => {
    const before = [0, 1].map((i) => readFileSync(b.onWorker(i, "jobs/tls/certs/server.crt"), "utf8"));
    // Renewal is due once a leaf is older than certs_ttl - certs_renewal_buffer days: a buffer
    // of the whole ttl makes this build renew every leaf.
    setRenewalBuffer(60);
    b.build(ws);
    setRenewalBuffer(10);
    const r = b.deploy();
    assert.equal(r.status, 0, r.stderr);
    const tls = r.plan!.waves[0]!.jobs.find((j) => j.job === "tls")!;
    assert.deepEqual(tls.allocations.map((a) => `${a.action} ${a.reason}`), ["restart content_changed", "restart content_changed"]);
    assert.deepEqual(r.result!.steps.filter((s) => s.step === "target").map((s) => s.name), ["restart", "restart"]);
    for (let i = 0; i < 2; i++) {
      assert.notEqual(readFileSync(b.onWorker(i, "jobs/tls/certs/server.crt"), "utf8"), before[i]);
      assert.match(verifyOnWorker(b, i), /server\.crt: OK/);
    }
  });
});
