import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bucketPaths } from "../../server/bucket/paths.js";
import { DEFAULT_CONF } from "../../server/bucket/conf.js";
import { MaandError } from "../../server/errors.js";
import { readPrivateKey } from "../../server/workers/connect.js";
import { transportOptions, TRANSPORT_DEFAULTS } from "../../server/workers/options.js";

describe("transport options", () => {
  it("come from maand.conf: key secrets/<ssh_key>, host keys in secrets/known_hosts, bounds by default", () => {
    const o = transportOptions(bucketPaths("/b"), DEFAULT_CONF, { maxWorkers: 8 });
    assert.deepEqual(
      { user: o.user, port: o.port, keyPath: o.keyPath, useSudo: o.useSudo, knownHostsFile: o.knownHostsFile, maxWorkers: o.maxWorkers, maxChannelsPerWorker: o.maxChannelsPerWorker },
      { user: "agent", port: 22, keyPath: "/b/secrets/worker.key", useSudo: true, knownHostsFile: "/b/secrets/known_hosts", maxWorkers: 8, maxChannelsPerWorker: TRANSPORT_DEFAULTS.maxChannelsPerWorker },
    );
    assert.ok(TRANSPORT_DEFAULTS.maxChannelsPerWorker < 10, "below OpenSSH's MaxSessions default");
    assert.equal(TRANSPORT_DEFAULTS.maxWorkers, 32);
  });

  it("a missing, malformed or passphrase-protected key is one clear error before any worker is contacted", () => {
    const dir = mkdtempSync(join(tmpdir(), "maand-key-"));
    writeFileSync(join(dir, "junk"), "not a key\n");
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "secret", "-f", join(dir, "locked")]);
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(dir, "good")]);
    assert.ok(readPrivateKey(join(dir, "good")).length > 0);
    for (const [file, pattern] of [["absent", /ENOENT/], ["junk", /Unsupported key format/], ["locked", /no passphrase given/]] as const) {
      assert.throws(() => readPrivateKey(join(dir, file)), (e: unknown) => e instanceof MaandError && pattern.test(e.message) && e.message.includes(join(dir, file)));
    }
  });
});
