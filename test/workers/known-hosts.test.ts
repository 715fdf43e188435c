import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHmac, randomBytes } from "node:crypto";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, statSync, writeFileSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fingerprint, hostPattern, keyType, KnownHosts } from "../../server/workers/known-hosts.js";

function blob(type: string, body = randomBytes(32)): Buffer {
  const t = Buffer.from(type);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(t.length);
  const blen = Buffer.alloc(4);
  blen.writeUInt32BE(body.length);
  return Buffer.concat([len, t, blen, body]);
}

const line = (pattern: string, b: Buffer) => `${pattern} ${keyType(b)} ${b.toString("base64")}\n`;

describe("known_hosts", () => {
  const dir = mkdtempSync(join(tmpdir(), "maand-kh-"));

  it("fingerprints like ssh-keygen -lf", () => {
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(dir, "k")]);
    const pub = readFileSync(join(dir, "k.pub"), "utf8").split(" ");
    const expected = execFileSync("ssh-keygen", ["-lf", join(dir, "k.pub")], { encoding: "utf8" }).split(" ")[1];
    assert.equal(fingerprint(Buffer.from(pub[1], "base64")), expected);
    assert.equal(keyType(Buffer.from(pub[1], "base64")), "ssh-ed25519");
  });

  it("trusts on first use, appends in OpenSSH format (0600, even over a wider file), refuses a changed key", () => {
    const file = join(dir, "kh1");
    writeFileSync(file, "# comment\n10.0.0.9 ssh-ed25519 " + blob("ssh-ed25519").toString("base64")); // no final newline
    chmodSync(file, 0o644);
    const kh = KnownHosts.load(file);
    const k = blob("ssh-ed25519");
    assert.equal(kh.verify("127.0.0.5", 2222, k).status, "unknown");
    kh.add("127.0.0.5", 2222, k);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.ok(readFileSync(file, "utf8").endsWith(`\n[127.0.0.5]:2222 ssh-ed25519 ${k.toString("base64")}\n`));
    const again = KnownHosts.load(file);
    assert.equal(again.verify("127.0.0.5", 2222, k).status, "known");
    assert.equal(again.verify("127.0.0.5", 22, k).status, "unknown", "another port is another host");
    const other = blob("ssh-ed25519");
    assert.deepEqual(again.verify("127.0.0.5", 2222, other), { status: "changed", knownFingerprint: fingerprint(k), presentedFingerprint: fingerprint(other) });
    assert.deepEqual(again.algorithmsFor("127.0.0.5", 2222), ["ssh-ed25519"]);
    assert.equal(again.algorithmsFor("127.0.0.6", 2222), undefined);
  });

  it("reads hashed, wildcard, negated, comma-listed and @revoked entries", () => {
    const file = join(dir, "kh2");
    const [h, w, c, r] = [blob("ssh-ed25519"), blob("ecdsa-sha2-nistp256"), blob("ssh-rsa"), blob("ssh-ed25519")];
    const salt = randomBytes(20);
    const hashed = `|1|${salt.toString("base64")}|${createHmac("sha1", salt).update(hostPattern("10.1.1.1", 22)).digest("base64")}`;
    writeFileSync(file, line(hashed, h) + line("10.2.*,!10.2.0.9", w) + line("a.example,[10.3.0.1]:2200", c) + `@revoked * ${keyType(r)} ${r.toString("base64")}\n`);
    const kh = KnownHosts.load(file);
    assert.equal(kh.verify("10.1.1.1", 22, h).status, "known");
    assert.equal(kh.verify("10.2.5.5", 22, w).status, "known");
    assert.equal(kh.verify("10.2.0.9", 22, w).status, "unknown");
    assert.equal(kh.verify("10.3.0.1", 2200, c).status, "known");
    assert.deepEqual(kh.algorithmsFor("10.3.0.1", 2200), ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"]);
    assert.equal(kh.verify("10.9.9.9", 22, r).status, "revoked");
  });
});
