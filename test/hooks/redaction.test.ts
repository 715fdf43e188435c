import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { LineSplitter } from "../../server/hooks/output.js";
import { MIN_SECRET_LENGTH, Redactor } from "../../server/hooks/redaction.js";

/** Output through a masker, split into the given chunks, then lines as the engine logs them. */
function through(r: Redactor, chunks: Array<string | Buffer>): string[] {
  const m = r.stream();
  const s = new LineSplitter();
  const lines: string[] = [];
  for (const c of chunks) lines.push(...s.push(m.push(Buffer.isBuffer(c) ? c : Buffer.from(c))));
  lines.push(...s.push(m.end()), ...s.end());
  return lines;
}

/** `text` cut at every offset into two chunks. */
const everySplit = (text: string): Array<[string, string]> => Array.from({ length: text.length + 1 }, (_, i) => [text.slice(0, i), text.slice(i)]);

describe("secret masking on the output stream", () => {
  it("masks a secret split across two chunks, wherever the split falls", () => {
    const r = new Redactor();
    r.add("hunter2-correct-horse");
    const out = "login: hunter2-correct-horse ok\n";
    for (const split of everySplit(out)) assert.deepEqual(through(r, split), ["login: *** ok"], JSON.stringify(split));
  });

  it("masks a multi-line secret whole and line by line, also indented or reflowed", () => {
    const r = new Redactor();
    r.add("first-line-of-it\r\nsecond-line-here\nthird-line-value");
    assert.deepEqual(through(r, ["pw=first-line-of-it\r\nsecond-line-here\nthird-line-value end\n"]), ["pw=*** end"]);
    assert.deepEqual(through(r, ["  first-line-of-it\n", "  third-line-value\n"]), ["  ***", "  ***"]);
  });

  it("masks before control characters are replaced: a secret holding ESC, or ending in \\r", () => {
    const r = new Redactor();
    r.add("esc\u001b[31m-inside!");
    r.add("ends-with-cr\r");
    assert.deepEqual(through(r, ["a esc\u001b[31m-inside! b\n"]), ["a *** b"]);
    assert.deepEqual(through(r, ["ends-with-cr\r\n"]), ["***"]);
    assert.deepEqual(through(r, ["printed: ends-with-cr.\n"]), ["printed: ***."], "its line without the \\r is masked too");
    for (const split of everySplit("x esc\u001b[31m-inside!\n")) assert.deepEqual(through(r, split), ["x ***"]);
  });

  it("masks every line of a PEM private key, but not the armor lines", () => {
    const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256", privateKeyEncoding: { type: "pkcs8", format: "pem" }, publicKeyEncoding: { type: "spki", format: "pem" } });
    const r = new Redactor();
    r.add(privateKey);
    const body = privateKey.trim().split("\n").slice(1, -1);
    assert.ok(body.length >= 2);
    assert.deepEqual(through(r, [privateKey]), ["***"]);
    assert.deepEqual(through(r, body.map((l) => `key line: ${l}\n`)), body.map(() => "key line: ***"));
    assert.deepEqual(through(r, ["-----BEGIN PRIVATE KEY-----\n"]), ["-----BEGIN PRIVATE KEY-----"]);
  });

  it("overlapping and adjacent secrets become one mask; a prefix of a secret at the end is printed", () => {
    const r = new Redactor();
    r.add("abcdefgh12");
    r.add("gh12345678");
    assert.deepEqual(through(r, ["xabcdefgh12345678y\n"]), ["x***y"]);
    assert.deepEqual(through(r, ["ends with abcdef"]), ["ends with abcdef"], "held back, then flushed at the end");
  });

  it("holds back only what may begin a secret: other output flows at once", () => {
    const r = new Redactor();
    r.add("s3cr3t-value");
    const m = r.stream();
    assert.equal(m.push(Buffer.from("progress 10%\n")).toString(), "progress 10%\n");
    assert.equal(m.push(Buffer.from("value: s3c")).toString(), "value: ");
    assert.equal(m.push(Buffer.from("r3t-value\n")).toString(), "***\n");
  });

  it(`values shorter than ${MIN_SECRET_LENGTH} characters are not masked, and add() says so`, () => {
    const r = new Redactor();
    assert.equal(r.add("x".repeat(MIN_SECRET_LENGTH - 1)), false);
    assert.equal(r.add("y".repeat(MIN_SECRET_LENGTH)), true);
    assert.equal(r.add(""), true, "an empty value has nothing to leak");
    assert.deepEqual(through(r, [`${"x".repeat(MIN_SECRET_LENGTH - 1)} ${"y".repeat(MIN_SECRET_LENGTH)}\n`]), [`${"x".repeat(MIN_SECRET_LENGTH - 1)} ***`]);
    const warned: unknown[] = [];
    r.onUnmaskable((s) => warned.push(s));
    r.addWritten("secrets/job/api", "pin", "1234");
    r.addWritten("secrets/job/api", "long", "long enough secret");
    assert.deepEqual(warned, [{ namespace: "secrets/job/api", key: "pin", length: 4 }]);
  });

  it("agrees with masking the whole output at once, however it is chunked (randomised, fixed seed)", () => {
    let seed = 42;
    const rand = (n: number) => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8) % n;
    const alphabet = "ab\n\r\u001b-";
    const word = (len: number) => Array.from({ length: len }, () => alphabet[rand(alphabet.length)]).join("");
    for (let round = 0; round < 300; round++) {
      const secrets = Array.from({ length: 1 + rand(4) }, () => word(MIN_SECRET_LENGTH + rand(5)));
      const r = new Redactor();
      for (const s of secrets) r.add(s);
      const text = word(40 + rand(200)) + secrets[0] + word(rand(20));
      const whole = r.redact(text);
      const m = r.stream();
      const parts: Buffer[] = [];
      for (let at = 0; at < text.length; ) {
        const n = 1 + rand(12);
        parts.push(m.push(Buffer.from(text.slice(at, at + n))));
        at += n;
      }
      parts.push(m.end());
      assert.equal(Buffer.concat(parts).toString(), whole, JSON.stringify({ secrets, text }));
      assert.ok(!whole.includes(secrets[0]!), "the printed secret is masked");
    }
  });

  it("5,000 secrets sharing a long prefix, over 4 MiB of output", () => {
    const r = new Redactor();
    for (let i = 0; i < 5000; i++) r.add(`secret-number-${i}-${"z".repeat(20)}`);
    const chunk = Buffer.from(`${"ordinary output line with secret-number-4999 but not the rest\n".repeat(1000)}`);
    const m = r.stream();
    let out = 0;
    for (let i = 0; i < 64; i++) out += m.push(chunk).length;
    out += m.end().length;
    assert.equal(out, chunk.length * 64);
    const last = `secret-number-4999-${"z".repeat(20)}`;
    assert.deepEqual(through(r, [`x ${last} y\n`]), ["x *** y"]);
  });
});
