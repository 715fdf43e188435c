import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { renderAll } from "../../codegen/generate.js";
import { FIX_COMMAND, OUTPUTS, repoRoot } from "../../codegen/paths.js";
import { README_BEGIN, README_END, renderReadme } from "../../codegen/readme.js";
import { ALIASES, camelCase, DESCRIPTIONS, HELPERS, PYTHON_ONLY_HELPERS } from "../../codegen/sdk-names.js";

/** The README's SDK tables: generated from sdk-names.ts, and held to it by the drift check. */

const ROOT = repoRoot();
const section = (readme: string) => readme.slice(readme.indexOf(README_BEGIN), readme.indexOf(README_END));
const tableRows = (text: string, heading: string) => {
  const start = text.indexOf(heading);
  const lines = text.slice(start).split("\n");
  const first = lines.findIndex((l) => l.startsWith("| "));
  const rows: string[][] = [];
  for (const l of lines.slice(first + 2)) {
    if (!l.startsWith("| ")) break;
    rows.push(l.slice(2, -2).split(" | "));
  }
  return rows;
};
const names = (cell: string) => (cell === "-" ? [] : cell.split(", ").map((n) => n.replace(/`/g, "").replace(/\(\)$/, "")));

describe("codegen: the README's SDK helper tables", () => {
  const dirs: string[] = [];
  after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it("list every helper with its aliases and description, in both languages, as the SDKs export them", () => {
    const text = section(readFileSync(join(ROOT, OUTPUTS.readme), "utf8"));
    const python = tableRows(text, "Python (");
    assert.deepEqual(python.map((r) => names(r[0]!)[0]), [...HELPERS, ...PYTHON_ONLY_HELPERS]);
    const sdkPy = readFileSync(join(ROOT, OUTPUTS.python), "utf8");
    for (const [cell, aliases, description] of python) {
      const helper = names(cell!)[0] as keyof typeof DESCRIPTIONS;
      assert.equal(description, DESCRIPTIONS[helper]);
      assert.deepEqual(names(aliases!), Object.keys(ALIASES).filter((a) => ALIASES[a] === helper));
      for (const a of names(aliases!)) assert.match(sdkPy, new RegExp(`^${a} = ${helper}$`, "m"), `maand.py defines ${a}`);
    }
    const ts = tableRows(text, "TypeScript for Bun (");
    assert.deepEqual(ts.map((r) => names(r[0]!)[0]), HELPERS.map(camelCase));
    const sdkTs = readFileSync(join(ROOT, OUTPUTS.typescript), "utf8");
    for (const [cell, aliases] of ts) {
      for (const a of names(aliases!)) assert.match(sdkTs, new RegExp(`^  ${names(cell!)[0]} as ${a},$`, "m"), `maand.ts exports ${a}`);
    }
  });

  it("generate replaces only the text between the markers; a README without them is an error naming them", () => {
    const readme = readFileSync(join(ROOT, OUTPUTS.readme), "utf8");
    const edited = readme.replace(section(readme), `${README_BEGIN}\nstale table\n`).replace("# maand\n", "# maand (edited by hand)\n");
    const again = renderReadme(edited, []);
    assert.ok(again.startsWith("# maand (edited by hand)\n"), "the hand-written part is kept");
    assert.doesNotMatch(again, /stale table/);
    assert.throws(() => renderReadme(readme.replace(README_END, ""), []), new RegExp(`README\\.md: expected the lines ${README_BEGIN.replace(/[()]/g, "\\$&")} and ${README_END}, in that order`));
  });

  it("the drift check fails on a hand-edited table, naming README.md and the fix; edits outside the markers pass", async () => {
    const dir = mkdtempSync(join(tmpdir(), "maand-codegen-readme-"));
    dirs.push(dir);
    cpSync(join(ROOT, "codegen", "templates"), join(dir, "codegen", "templates"), { recursive: true });
    for (const p of Object.values(OUTPUTS)) cpSync(join(ROOT, p), join(dir, p));
    const file = join(dir, OUTPUTS.readme);
    const readme = readFileSync(file, "utf8");
    const check = () => execa(process.execPath, [join(ROOT, "dist", "codegen", "check.js"), "--root", dir], { reject: false });

    writeFileSync(file, readme.replace("## Development", "## Development (notes)"));
    assert.equal((await check()).exitCode, 0, "the hand-written part is the operator's");

    writeFileSync(file, readme.replace(DESCRIPTIONS.put_job_secret, "writes a secret in plain text"));
    const bad = await check();
    assert.equal(bad.exitCode, 1);
    assert.match(bad.stderr, new RegExp(`${OUTPUTS.readme}: differs from the generator's output from line \\d+`));
    assert.match(bad.stderr, new RegExp(`fix: ${FIX_COMMAND}$`, "m"));
    // What the fix writes is the committed table.
    const fixed = (await renderAll(undefined, dir)).find((f) => f.path === OUTPUTS.readme)!.content;
    assert.equal(fixed, readme);
  });
});
