/**
 * maand's template engine against Go's own text/template: every corpus case, the generated
 * printf and trim grids and seeded random templates run through both; outputs must be
 * byte-identical, and what one rejects the other must reject too, at the same line. Go is
 * test/templates/go/render.go, built once.
 * Without `go` on PATH the suite is skipped with the reason, except in CI, where it fails.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { dataFields } from "../../server/templates/data.js";
import { parseTemplate, TemplateError, type TemplateKv } from "../../server/templates/render.js";
import { GoMap, GoStruct, type GoValue } from "../../server/templates/values.js";
import { loadCorpus, type CorpusCase } from "./corpus.js";
import { printfMatrix, randomTemplates, trimMatrix } from "./generated.js";
import { buildOracle, goUnavailable, type Oracle, type OracleResult } from "./go-oracle.js";

type Outcome = { output: string } | { error: TemplateError };

function kvFor(c: CorpusCase): TemplateKv {
  const check = (ns: string) => {
    if (c.deny.includes(ns)) throw new Error(`namespace ${ns} is not readable by this job`);
  };
  return {
    get: (ns, key) => (check(ns), c.kv[ns]?.[key]),
    keys: (ns) => (check(ns), Object.keys(c.kv[ns] ?? {})),
  };
}

// The test-only dot with two map fields, mirroring render.go's MapData.
function mapDot(c: CorpusCase): GoValue {
  const tags = c.data.Tags as Record<string, string>;
  const ports = c.data.Ports as Record<string, number>;
  return new GoStruct(
    "main.MapData",
    new Map([
      ...dataFields(c.data as never),
      ["Tags", new GoMap("string", "", new Map(Object.entries(tags)))],
      ["Ports", new GoMap("int", 0n, new Map(Object.entries(ports).map(([k, v]) => [k, BigInt(v)])))],
    ]),
  );
}

function runMaand(c: CorpusCase): Outcome {
  try {
    const t = parseTemplate(c.source, c.templateName);
    const options = { kv: kvFor(c), ownJob: c.ownJob };
    return { output: c.withMaps ? t.executeDot(mapDot(c), options) : t.execute({ ...options, data: c.data as never }) };
  } catch (e) {
    if (e instanceof TemplateError) return { error: e };
    throw e;
  }
}

/** The line Go's message names: "template: NAME:LINE:" or "template: NAME:LINE:COL:". */
function goLine(message: string, name: string): number {
  const m = new RegExp(`^template: ${name.replace(/\./g, "\\.")}:(\\d+):`).exec(message);
  assert.ok(m, `Go error without a line: ${message}`);
  return Number(m[1]);
}

function compare(c: CorpusCase, go: OracleResult): void {
  const where = `${c.file} / ${c.name}\nsource: ${JSON.stringify(c.source)}`;
  if (c.expect !== "any") assert.equal("error" in go ? "error" : "output", c.expect, `Go itself does not behave as the corpus says: ${where}\nGo: ${JSON.stringify(go)}`);
  const ours = runMaand(c);
  if ("output" in go) {
    assert.ok("output" in ours, `Go renders it, maand fails: ${where}\nmaand: ${"error" in ours ? ours.error.message : ""}`);
    assert.equal(ours.output, go.output, `output differs: ${where}`);
    return;
  }
  assert.ok("error" in ours, `Go rejects it (${go.error}), maand renders ${JSON.stringify("output" in ours ? ours.output : "")}: ${where}`);
  assert.equal(ours.error.line, goLine(go.error, c.templateName), `error on another line: ${where}\nGo: ${go.error}\nmaand: ${ours.error.message}`);
  assert.match(ours.error.message, new RegExp(`^template: ${c.templateName.replace(/\./g, "\\.")}:${ours.error.line}:${ours.error.column}: `));
}

const missingGo = goUnavailable();
const corpus = loadCorpus();
const generated = [...printfMatrix(), ...trimMatrix(), ...randomTemplates(1500, 19)];

if (missingGo && process.env.CI) {
  describe("templates: differential against Go", () => {
    it("needs Go in CI", () => assert.fail(`${missingGo} (CI is set, so this cannot be skipped)`));
  });
} else {
  if (missingGo) console.log(`# skipping the Go differential test: ${missingGo}`);
  describe("templates: differential against Go", { skip: missingGo }, () => {
    let oracle: Oracle;
    const go = new Map<CorpusCase, OracleResult>();
    before(() => {
      oracle = buildOracle();
      const all = [...corpus, ...generated];
      const results = oracle.cases(all.map((c) => ({ name: c.templateName, source: c.source, data: c.data, kv: c.kv, deny: c.deny, ownJob: c.ownJob, withMaps: c.withMaps })));
      all.forEach((c, i) => go.set(c, results[i]!));
    });
    after(() => oracle?.cleanup());

    it("the corpus covers at least 60 templates, failing and succeeding ones", () => {
      assert.ok(corpus.length >= 60, `only ${corpus.length} corpus cases`);
      assert.ok(corpus.filter((c) => c.expect === "error").length >= 20);
      assert.ok(corpus.filter((c) => c.expect === "output").length >= 40);
    });

    for (const file of [...new Set(corpus.map((c) => c.file))]) {
      describe(file, () => {
        for (const c of corpus.filter((x) => x.file === file)) it(c.name, () => compare(c, go.get(c)!));
      });
    }
    for (const family of [...new Set(generated.map((c) => c.file))]) {
      it(`${family} (${generated.filter((c) => c.file === family).length} cases)`, () => {
        for (const c of generated.filter((x) => x.file === family)) compare(c, go.get(c)!);
      });
    }
  });
}
