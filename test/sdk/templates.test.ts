import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { routerDocument } from "../../codegen/document.js";
import { fillTemplate, readTemplate, type SdkValue } from "../../codegen/fill-template.js";
import { PYTHON_LANG } from "../../codegen/python.js";
import { pythonValues, sdkValues } from "../../codegen/sdk-values.js";
import { TYPESCRIPT_LANG } from "../../codegen/typescript.js";
import { DEFAULT_CONF, renderDefaultConf } from "../../server/bucket/conf.js";
import { baseEnv, BUN, explain, pythons, ROOT, run } from "./runtimes.js";

/**
 * The hand-written SDK templates, tested on their own: each is filled with the generator's real
 * values (nothing else changed) and run by a real interpreter with its unit tests.
 */
describe("SDK templates", () => {
  let dir: string;
  let values: Record<string, SdkValue>;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), "maand-templates-"));
    values = sdkValues(routerDocument());
    for (const name of ["runtime.py", "ssh.py"]) {
      writeFileSync(join(dir, name), fillTemplate(readTemplate(`python/${name}`), PYTHON_LANG, pythonValues(values)));
    }
    writeFileSync(join(dir, "runtime.ts"), fillTemplate(readTemplate("ts/runtime.ts"), TYPESCRIPT_LANG, values));
    copyFileSync(join(ROOT, "test", "sdk", "python", "test_templates.py"), join(dir, "test_templates.py"));
    copyFileSync(join(ROOT, "test", "sdk", "bun", "runtime-template.bun.mts"), join(dir, "runtime-template.bun.mts"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("Python runtime and SSH helpers pass their unit tests (python3 and, when installed, python3.9)", async () => {
    const env = {
      ...baseEnv(),
      MAAND_TEMPLATE_DIR: dir,
      MAAND_SDK_VALUES: JSON.stringify(pythonValues(values)),
      MAAND_DEFAULT_CONF: renderDefaultConf(),
      MAAND_DEFAULT_CONF_JSON: JSON.stringify(DEFAULT_CONF),
    };
    for (const py of await pythons()) {
      const r = await run(py.bin, ["-m", "unittest", "-v", "test_templates"], { cwd: dir, env });
      assert.equal(r.exitCode, 0, `${py.label}: ${explain(r)}`);
      assert.match(r.stderr, /Ran \d+ tests/);
      assert.doesNotMatch(r.stderr, /skipped/);
    }
  });

  it("TypeScript runtime passes its unit tests under Bun", async () => {
    const r = await run(BUN, ["run", "runtime-template.bun.mts"], { cwd: dir, env: { ...baseEnv(), MAAND_SDK_VALUES: JSON.stringify(values) } });
    assert.equal(r.exitCode, 0, explain(r));
    assert.match(r.stdout, /(\d+)\/\1 passed/);
  });
});
