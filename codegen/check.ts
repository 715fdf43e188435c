import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { OpenApiDocument } from "./document.js";
import { renderAll, writeFiles, type GeneratedFile } from "./generate.js";
import { FIX_COMMAND, OUTPUTS, repoRoot } from "./paths.js";

/**
 * The drift check CI runs: regenerate everything into a temp directory and compare it with the
 * committed files; then type-check sdk-ts/maand.ts against its embedded generated types.
 * On any difference it names the one command that fixes it.
 */

export interface Drift {
  path: string;
  /** First differing line (1-based), or a reason such as "missing". */
  detail: string;
}

export function compareFiles(expected: GeneratedFile[], actualRoot: string): Drift[] {
  const drifts: Drift[] = [];
  for (const f of expected) {
    const file = join(actualRoot, f.path);
    if (!existsSync(file)) {
      drifts.push({ path: f.path, detail: "missing" });
      continue;
    }
    const actual = readFileSync(file, "utf8");
    if (actual === f.content) continue;
    const a = actual.split("\n");
    const e = f.content.split("\n");
    const line = e.findIndex((l, i) => a[i] !== l);
    const n = line < 0 ? e.length + 1 : line + 1;
    drifts.push({ path: f.path, detail: `differs from the generator's output from line ${n}` });
  }
  return drifts;
}

export function formatDrift(drifts: Drift[]): string {
  return [
    "generated files are out of date with the router, codegen/templates and codegen/sdk-names.ts:",
    ...drifts.map((d) => `  ${d.path}: ${d.detail}`),
    `fix: ${FIX_COMMAND}`,
  ].join("\n");
}

/** tsc --strict on the SDK alone: no project config, only what the SDK may use (node:http, Response, process). */
export function typeCheckSdk(root: string, file = join(root, OUTPUTS.typescript), extra: string[] = []): { ok: boolean; output: string } {
  // typescript and @types/node come from this checkout, wherever the file under check lives.
  const tools = repoRoot();
  const tsc = join(tools, "node_modules", "typescript", "bin", "tsc");
  const args = [tsc, "--noEmit", "--strict", "--target", "es2022", "--module", "esnext", "--moduleResolution", "bundler", "--lib", "es2022,dom", "--types", "node", "--skipLibCheck", ...extra, file];
  try {
    execFileSync(process.execPath, args, { cwd: tools, encoding: "utf8", stdio: "pipe" });
    return { ok: true, output: "" };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    return { ok: false, output: `${e.stdout ?? ""}${e.stderr ?? ""}`.trim() };
  }
}

/** Regenerates into a temp directory (the generator's own writer), compares, type-checks. */
export async function checkGenerated(options: { root?: string; doc?: OpenApiDocument } = {}): Promise<{ ok: boolean; report: string }> {
  const root = options.root ?? repoRoot();
  const tmp = mkdtempSync(join(tmpdir(), "maand-codegen-"));
  try {
    writeFiles(await renderAll(options.doc, root), tmp);
    const fresh = Object.values(OUTPUTS).map((path) => ({ path, content: readFileSync(join(tmp, path), "utf8") }));
    const drifts = compareFiles(fresh, root);
    if (drifts.length) return { ok: false, report: formatDrift(drifts) };
    const tsc = typeCheckSdk(root);
    if (!tsc.ok) return { ok: false, report: `${OUTPUTS.typescript} does not type-check:\n${tsc.output}\nfix the templates in codegen/templates/ts, then: ${FIX_COMMAND}` };
    return { ok: true, report: `${Object.values(OUTPUTS).join(", ")}: up to date; ${OUTPUTS.typescript} type-checks` };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const i = process.argv.indexOf("--root");
  checkGenerated(i > 0 && process.argv[i + 1] ? { root: process.argv[i + 1] } : {})
    .then(({ ok, report }) => {
      (ok ? console.log : console.error)(report);
      process.exit(ok ? 0 : 1);
    })
    .catch((err: unknown) => {
      console.error(`generate:check: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    });
}
