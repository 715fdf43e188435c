// Expected strings are what Go 1.19's fmt prints for the same call (checked with the oracle), so
// this suite pins Go's behaviour where the differential test cannot run.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { formatFloat } from "../../server/templates/fmt-float.js";
import { formatValue, sprint, sprintln } from "../../server/templates/fmt-print.js";
import { sprintf } from "../../server/templates/fmt-printf.js";
import { GoMap, GoStruct, GoUint8, stringSlice } from "../../server/templates/values.js";

const labels = stringSlice(["web", "db"]);

describe("templates: fmt", () => {
  it("integers: width, zero padding, sign, precision, bases", () => {
    assert.equal(sprintf("%05d|%05d|%-5d|%+d|% d|%.3d|%.0d|%x|%X|%#x|%o|%#o|%O|%b", [42n, -42n, 42n, 5n, 5n, 7n, 0n, 255n, 255n, 255n, 8n, 8n, 8n, 5n]), "00042|-0042|42   |+5| 5|007||ff|FF|0xff|10|010|0o10|101");
    assert.equal(sprintf("%d", [-(1n << 63n)]), "-9223372036854775808");
    assert.equal(sprintf("%c|%q|%U|%#U|%c", [233n, 65n, 233n, 233n, -1n]), "é|'A'|U+00E9|U+00E9 'é'|\uFFFD");
  });

  it("floats: Go rounds half to even on the exact value, %v is shortest %g", () => {
    assert.equal(sprintf("%.0f %.0f %.0f %.2f %.2f %.1f", [0.5, 1.5, 2.5, 0.125, 1.005, 0.25]), "0 2 2 0.12 1.00 0.2");
    assert.equal(sprint([1.0]) + " " + sprint([1e6]) + " " + sprint([123456.0]) + " " + sprint([1e21]) + " " + sprint([0.0001]) + " " + sprint([0.00001]) + " " + sprint([-0]), "1 1e+06 123456 1e+21 0.0001 1e-05 -0");
    assert.equal(sprintf("%e|%E|%.3g|%g|%08.3f|%+.1e|%#g|%x", [1234.5678, 0.000012, 1234.5678, 100000.0, -3.14159, 12345.0, 1.0, 1.5]), "1.234568e+03|1.200000E-05|1.23e+03|100000|-003.142|+1.2e+04|1.00000|0x1.8p+00");
    assert.equal(formatFloat(2.5, "f", 0), "2");
    assert.equal(formatFloat(5e-324, "e", 3), "4.941e-324");
  });

  it("strings: %q, %x, precision and width count characters, %05s pads with zeros", () => {
    assert.equal(sprintf("%q|%+q|%#q|%x|% x|%.2s|%5s|%-5s|%05s", ['a"b\n\x00é\u2028', "é", "ab", "hé", "hé", "héllo", "日本", "ab", "ab"]), '"a\\"b\\n\\x00é\\u2028"|"\\u00e9"|`ab`|68c3a9|68 c3 a9|hé|   日本|ab   |000ab');
  });

  it("composites: lists, maps in key order, structs", () => {
    const tags = new GoMap("string", "", new Map([["zone", "z1"], ["rack", "r2"]]));
    const dot = new GoStruct("main.Data", new Map<string, never>([["Job", "app" as never], ["Labels", labels as never]]));
    assert.equal(sprintf("%v|%q|%d|%v|%+v|%#v|%T|%T", [labels, labels, labels, tags, dot, labels, tags, dot]), '[web db]|["web" "db"]|[%!d(string=web) %!d(string=db)]|map[rack:r2 zone:z1]|{Job:app Labels:[web db]}|[]string{"web", "db"}|map[string]string|main.Data');
  });

  it("mistakes print Go's %! forms", () => {
    assert.equal(sprintf("%d|%s|%5d|%!|%z", ["x", 5n, "ab", 1n, true]), "%!d(string=x)|%!s(int=5)|%!d(string=   ab)|%!!(int=1)|%!z(bool=true)");
    assert.equal(sprintf("%s %s", ["one"]), "one %!s(MISSING)");
    assert.equal(sprintf("%s", ["a", 1n, undefined]), "a%!(EXTRA int=1, <nil>)");
    assert.equal(sprintf("%[3]s|%*d|abc%", ["a", "x", 1n]), "%!s(int=1)|%!(BADWIDTH)%!d(MISSING)|abc%!(NOVERB)");
    assert.equal(sprintf("%[4]s|%[2]s %[1]s|%*d|%.*f", ["a", "b", 4n, 1n, 1n, 3.14]), "%!s(int=1)|b a|%!(BADWIDTH)4|%!f(int=1)");
  });

  it("Sprint spaces operands only when neither is a string; Sprintln always", () => {
    assert.equal(sprint([1n, 2n]) + "|" + sprint(["a", "b"]) + "|" + sprint([1n, "a", 2n]) + "|" + sprint(["a", 1n, 2n, "b"]), "1 2|ab|1a2|a1 2b");
    assert.equal(sprintln([1n, "a", labels]), "1 a [web db]\n");
    assert.equal(sprint([new GoUint8(97), undefined, true]), "97 <nil> true");
    assert.equal(formatValue(-7n) + formatValue("s") + formatValue(undefined), "-7s<nil>");
  });
});
