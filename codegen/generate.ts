import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { renderDocument, routerDocument, type OpenApiDocument } from "./document.js";
import { readOperations } from "./operations.js";
import { OUTPUTS, repoRoot } from "./paths.js";
import { renderPython } from "./python.js";
import { readReadme, renderReadme } from "./readme.js";
import { sdkValues } from "./sdk-values.js";
import { renderTypeScript } from "./typescript.js";

/**
 * The contract pipeline: router -> openapi/openapi.json -> sdk-ts/maand.ts + sdk-python/maand.py,
 * and the README's SDK helper tables.
 * renderAll is pure (document and templates in, file contents out); main() writes the files.
 * Deterministic: no timestamps, no environment-dependent output.
 */
export interface GeneratedFile {
  /** Relative to the repository root. */
  path: string;
  content: string;
}

export async function renderAll(doc: OpenApiDocument = routerDocument(), root = repoRoot()): Promise<GeneratedFile[]> {
  const openapi = renderDocument(doc);
  // The SDKs are generated from openapi.json's text, exactly as committed.
  const committed = JSON.parse(openapi) as OpenApiDocument;
  const ops = readOperations(committed);
  const values = sdkValues(committed);
  return [
    { path: OUTPUTS.openapi, content: openapi },
    { path: OUTPUTS.typescript, content: await renderTypeScript(committed, ops, values, root) },
    { path: OUTPUTS.python, content: renderPython(ops, values, root) },
    { path: OUTPUTS.readme, content: renderReadme(readReadme(root), ops) },
  ];
}

export function writeFiles(files: GeneratedFile[], outDir: string): void {
  for (const f of files) {
    const target = join(outDir, f.path);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, f.content);
  }
}

async function main(argv: string[]): Promise<void> {
  const i = argv.indexOf("--out");
  const outDir = i >= 0 && argv[i + 1] ? argv[i + 1]! : repoRoot();
  const files = await renderAll();
  writeFiles(files, outDir);
  for (const f of files) console.log(`wrote ${join(outDir, f.path)}`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    console.error(`generate: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
