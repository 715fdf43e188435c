// Go 1.19 rejects each of these templates with exactly this message (checked with the oracle);
// maand gives the same text with a column added after the line.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { lex } from "../../server/templates/lexer.js";
import { Tok } from "../../server/templates/tokens.js";
import { parseTemplate, TemplateError, type TemplateKv } from "../../server/templates/render.js";

const GO_REJECTS: [source: string, goMessage: string][] = [
  ["{{if 1}}x", "template: t.tpl:1: unexpected EOF"],
  ["x {{end}}", "template: t.tpl:1: unexpected {{end}}"],
  ["{{if 1}}{{else}}{{else}}{{end}}", "template: t.tpl:1: expected end; found {{else}}"],
  ["{{with 1}}{{else with 2}}{{end}}", "template: t.tpl:1: unexpected <with> in else"],
  ["{{range .Labels}}{{else if 1}}{{end}}", "template: t.tpl:1: unexpected <if> in input"],
  ["{{break}}", "template: t.tpl:1: {{break}} outside {{range}}"],
  ["{{$x}}", 'template: t.tpl:1: undefined variable "$x"'],
  ["{{ nosuch }}", 'template: t.tpl:1: function "nosuch" not defined'],
  ["{{ (1 }}", "template: t.tpl:1: unclosed left paren"],
  ["{{ ) }}", 'template: t.tpl:1: unexpected ")" in command'],
  ["{{.Job", "template: t.tpl:1: unclosed action"],
  ["{{ # }}", 'template: t.tpl:1: unexpected "#" in command'],
  ["{{ $x, $y := 1 }}", "template: t.tpl:1: too many declarations in command"],
  ["{{range $a, $b, $c := .}}{{end}}", "template: t.tpl:1: too many declarations in range"],
  ['{{"a".x}}', 'template: t.tpl:1: unexpected . after term "\\"a\\""'],
  ["{{.Job | 1}}", "template: t.tpl:1: non executable command in pipeline stage 2"],
  ["{{}}", "template: t.tpl:1: missing value for command"],
  ["{{/* x */ }}", "template: t.tpl:1: comment ends before closing delimiter"],
  ['{{define "a"}}x{{end}}{{define "a"}}y{{end}}', 'template: t.tpl:1: template: multiple definition of template "a"'],
  ["{{ 'ab' }}", "template: t.tpl:1: malformed character constant: 'ab'"],
  ["{{ 08 }}", 'template: t.tpl:1: integer overflow: "08"'],
  ["{{ 1__0 }}", 'template: t.tpl:1: illegal number syntax: "1__0"'],
  ['{{"\\q"}}', "template: t.tpl:1: invalid syntax"],
  ["a\n{{ if\n .Job }}x{{ end", "template: t.tpl:3: unclosed action"],
];

const kv: TemplateKv = { get: () => undefined, keys: () => [] };

describe("templates: parser", () => {
  for (const [source, goMessage] of GO_REJECTS) {
    it(`rejects ${JSON.stringify(source)} as Go does`, () => {
      assert.throws(
        () => parseTemplate(source, "t.tpl"),
        (e: unknown) => e instanceof TemplateError && e.message.replace(/^(template: t\.tpl:\d+):\d+:/, "$1:") === goMessage,
      );
    });
  }

  it("a trim marker needs the space: {{-3}} is minus three, {{- 3}} trims", () => {
    const types = (s: string) => lex(s).map((t) => [Tok[t.type], t.val]);
    assert.deepEqual(types("a {{-3}}"), [["Text", "a "], ["LeftDelim", "{{"], ["Number", "-3"], ["RightDelim", "}}"], ["EOF", ""]]);
    assert.deepEqual(types("a {{- 3}}"), [["Text", "a"], ["LeftDelim", "{{"], ["Number", "3"], ["RightDelim", "}}"], ["EOF", ""]]);
  });

  it("accepts what Go accepts that looks wrong: a trailing pipe, }} in text, arity checked only when run", () => {
    const dot = { WorkerIP: "", WorkerID: "", Job: "j", AllocationID: "", AllocationIndex: 0, CurrentVersion: "", NewVersion: "", Labels: [], BucketPath: "", JobPath: "" };
    assert.equal(parseTemplate("{{ .Job | }} }} {{if false}}{{split 1}}{{end}}", "t.tpl").execute({ data: dot, kv, ownJob: "j" }), "j }} ");
  });
});
