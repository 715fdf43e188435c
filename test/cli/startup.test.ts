import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MAAND_BIN } from "../helpers/cli.js";

/** Records every module URL the process loads (an ESM resolve hook) into $MAAND_TRACE_LOADS. */
const TRACE_HOOKS = `import { appendFileSync } from "node:fs";
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  appendFileSync(process.env.MAAND_TRACE_LOADS, r.url + "\\n");
  return r;
}`;
const REGISTER = `import { register } from "node:module"; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(TRACE_HOOKS)}`)});`;

function helpRun(...args: string[]): { status: number | null; stdout: string; loaded: string[] } {
  const dir = mkdtempSync(join(tmpdir(), "maand-startup-"));
  try {
    const trace = join(dir, "loads");
    const r = spawnSync(process.execPath, ["--import", `data:text/javascript,${encodeURIComponent(REGISTER)}`, MAAND_BIN, ...args], {
      encoding: "utf8",
      env: { ...process.env, MAAND_TRACE_LOADS: trace },
    });
    return { status: r.status, stdout: r.stdout, loaded: readFileSync(trace, "utf8").trim().split("\n") };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("CLI start-up stays light (maand --help well under 300 ms)", () => {
  for (const args of [["--help"], ["hooks", "--help"], ["cat", "kv", "--help"], ["logs", "show", "--help"], ["job", "create", "--help"], ["--version"]]) {
    it(`maand ${args.join(" ")} loads commander and nothing heavy`, () => {
      const r = helpRun(...args);
      assert.equal(r.status, 0);
      assert.match(r.stdout, args[0] === "--version" ? /^\d+\.\d+\.\d+\n$/ : /^Usage: maand /);
      const heavy = r.loaded.filter((u) => /better-sqlite3|@trpc|zod|listr2|@peculiar|smol-toml|execa|ssh2|\/server\/(?!errors\.js|text\/escape\.js)|\/cli\/commands\//.test(u));
      assert.deepEqual(heavy, [], "modules loaded only for --help");
      assert.ok(r.loaded.some((u) => u.includes("commander")), "the trace works");
    });
  }

  it("documents every command and the exit statuses", () => {
    const r = helpRun("--help");
    for (const cmd of ["init", "build", "job", "cat", "logs", "gc", "hooks", "info", "openapi"]) assert.match(r.stdout, new RegExp(`^  ${cmd}\\b`, "m"), cmd);
    assert.match(r.stdout, /Exit status: 0 success; 1 invalid workspace or other failure .*\n2 usage error or not a bucket; 3 a hook, a deploy step or a health check failed; 4 a worker unreachable;\n130 interrupted/);
  });
});
