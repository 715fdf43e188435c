import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { escapeBytes, escapeLines, escapeText } from "../../server/text/escape.js";
import { formatProblem } from "../../server/workspace/errors.js";

/** Nothing a terminal acts on: C0, DEL, C1, bidi controls, separators, lone surrogates. */
const UNSAFE_LEFT = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]|[\ud800-\udfff]/u;

describe("escapeText: the one escaping of user text printed for people", () => {
  it("escapes control characters visibly and keeps printable text (backslashes included) as it is", () => {
    assert.equal(escapeText("plain text, ünïcödé, 日本, emoji 🎉, C:\\path"), "plain text, ünïcödé, 日本, emoji 🎉, C:\\path");
    assert.equal(escapeText("a\nb\r\tc"), "a\\nb\\r\\tc");
    assert.equal(escapeText("\u001b[2J\u0007\u0000"), "\\x1b[2J\\x07\\x00");
    assert.equal(escapeText("del\u007f c1\u009b31m"), "del\\x7f c1\\x9b31m");
    assert.equal(escapeText("evil\u202egnp.exe \u2066x\u2069 \u2028"), "evil\\u202egnp.exe \\u2066x\\u2069 \\u2028");
    assert.equal(escapeText("lone \ud800 and \udc00 pair \ud83c\udf89"), "lone \\ud800 and \\udc00 pair 🎉");
    assert.equal(escapeText("\ufeffbom"), "\\ufeffbom");
  });

  it("leaves nothing unsafe in any string", () => {
    let all = "";
    for (let c = 0; c < 0x3000; c++) all += String.fromCharCode(c);
    all += "\ud800x\udfff";
    assert.doesNotMatch(escapeText(all), UNSAFE_LEFT);
  });

  it("escapeLines keeps a message's own line breaks; escapeBytes shows non-UTF-8 bytes as \\xHH", () => {
    assert.equal(escapeLines("first \u001b[1m\nsecond\r"), "first \\x1b[1m\nsecond\\r");
    assert.equal(escapeBytes(Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0a, 0xff])), "caf\\xe9\\n\\xff");
  });

  it("workspace problems are printed escaped: file and entry names, values and what was expected", () => {
    const line = formatProblem({ file: "workspace/jobs/a\u001b[31m", path: "x\ny", value: "v\u009b2J", expected: "expected \u202eabc" });
    assert.equal(line, 'workspace/jobs/a\\x1b[31m: x\\ny: "v\\x9b2J" expected \\u202eabc');
  });
});
