import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The generated files, relative to the repository root. */
export const OUTPUTS = {
  openapi: "openapi/openapi.json",
  typescript: "sdk-ts/maand.ts",
  python: "sdk-python/maand.py",
  /** Only the SDK helper section between its markers (codegen/readme.ts); the rest is hand-written. */
  readme: "README.md",
} as const;

/** The generator's source, as named in every generated file's header line. */
export const GENERATOR = "codegen/generate.ts";

/** The one command that rewrites every generated file. */
export const FIX_COMMAND = "npm run generate";

/** Repository root: this module runs from dist/codegen/; the templates stay in the source tree. */
export function repoRoot(): string {
  return fileURLToPath(new URL("../../", import.meta.url));
}

export function templatesDir(root = repoRoot()): string {
  return join(root, "codegen", "templates");
}
