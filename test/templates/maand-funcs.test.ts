import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { TemplateFuncError } from "../../server/templates/errors.js";
import type { CallContext } from "../../server/templates/funcs.js";
import { compareGo, byteLength, split, toLower, toUpper, trimSpace } from "../../server/templates/go-strings.js";
import { MAAND_FUNCS, toInt } from "../../server/templates/maand-funcs.js";
import { GoSlice, GoUint8, stringSlice, type GoValue } from "../../server/templates/values.js";

const ctx = (): CallContext => ({
  kv: {
    get: (ns, key) => ({ "vars/a": { b: "1", "é": "2", Z: "3" } })[ns]?.[key as "b"],
    keys: (ns) => (ns === "vars/a" ? ["é", "b", "Z", "\u{1F600}", "\uFFFF"] : []),
  },
  secretNamespace: "secrets/job/app",
  revealed: new Set(),
});

function call(name: string, ...args: GoValue[]): GoValue {
  return MAAND_FUNCS.get(name)!.call(args, ctx());
}

function fails(f: () => unknown, message: RegExp): void {
  assert.throws(f, (e: unknown) => e instanceof TemplateFuncError && message.test(e.message));
}

describe("templates: maand functions", () => {
  it("int: an int, or a string strconv.Atoi accepts; nothing else", () => {
    assert.deepEqual(["42", "+42", "-0", "007", "-9223372036854775808", "9223372036854775807"].map((s) => toInt(s)), [42n, 42n, 0n, 7n, -(1n << 63n), (1n << 63n) - 1n]);
    assert.equal(toInt(5n), 5n);
    for (const s of ["", " 5", "5 ", "0x10", "1_0", "1.0", "٣", "9223372036854775808", "+", "--1"]) fails(() => toInt(s), /is not an integer$/);
    fails(() => toInt(1.0), /^cannot convert float64 to int$/);
    fails(() => toInt(true), /^cannot convert bool to int$/);
    fails(() => toInt(new GoUint8(1)), /^cannot convert uint8 to int$/);
    fails(() => toInt(stringSlice([])), /^cannot convert \[\]string to int$/);
    fails(() => toInt(undefined), /^nil is not an integer$/);
  });

  it("arithmetic is Go's 64-bit int: wraps, truncates toward zero, refuses division by zero", () => {
    assert.deepEqual(
      [call("add", "2", 3n), call("sub", 2n, 3n), call("mul", -2n, "3"), call("div", -7n, 2n), call("min", 3n, -1n), call("max", 3n, -1n)],
      [5n, -1n, -6n, -3n, -1n, 3n],
    );
    assert.equal(call("add", (1n << 63n) - 1n, 1n), -(1n << 63n));
    assert.equal(call("div", -(1n << 63n), -1n), -(1n << 63n));
    fails(() => call("div", 1n, 0n), /^division by zero$/);
  });

  it("keys are sorted bytewise (UTF-8), not by UTF-16 units", () => {
    assert.deepEqual((call("keys", "vars/a") as GoSlice).items, ["Z", "b", "é", "\uFFFF", "\u{1F600}"]);
    assert.deepEqual((call("keys", "vars/none") as GoSlice).items, []);
  });

  it("get fails naming key and namespace; getOptional gives empty; getSecret takes one or two arguments", () => {
    assert.equal(call("get", "vars/a", "b"), "1");
    assert.throws(() => call("get", "vars/a", "x"), (e: TemplateFuncError) => e.message === 'key "x" not found in namespace "vars/a"' && e.involved.key === "x" && e.involved.namespace === "vars/a");
    assert.equal(call("getOptional", "vars/a", "x"), "");
    fails(() => call("getSecret"), /got 0 arguments$/);
    fails(() => call("getSecret", "a", "b", "c"), /got 3 arguments$/);
    fails(() => call("getSecret", "pw"), /^secret "pw" not found in namespace "secrets\/job\/app"$/);
  });

  it("string functions follow Go's strings package", () => {
    assert.deepEqual(split("héllo", ""), ["h", "é", "l", "l", "o"]);
    assert.deepEqual(split("😀x", ""), ["😀", "x"]);
    assert.deepEqual(split("a,,b,", ","), ["a", "", "b", ""]);
    assert.equal(trimSpace("\u0085 \t x \n\u00a0\u3000"), "x");
    assert.equal(trimSpace("\ufeffx"), "\ufeffx");
    assert.equal(toUpper("abc ß ǆ ᾳ ﬀ"), "ABC ß Ǆ ᾼ ﬀ");
    assert.equal(toLower("İ ΑΣ Ǆ"), "i ασ ǆ");
    assert.equal(call("join", stringSlice(["a", "b"]), "-"), "a-b");
  });

  it("Go string basics: byte length and bytewise order", () => {
    assert.deepEqual([byteLength("héllo"), byteLength("😀"), byteLength("")], [6, 4, 0]);
    assert.ok(compareGo("\uFFFF", "\u{1F600}") < 0, "U+FFFF sorts before U+1F600 in UTF-8");
    assert.ok(compareGo("Z", "a") < 0 && compareGo("a", "ab") < 0 && compareGo("b", "b") === 0);
  });
});
