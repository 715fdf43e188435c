import { writeFileSync } from "node:fs";
import { renderDocument, routerDocument } from "../../codegen/document.js";
import { MaandError } from "../../server/errors.js";

/**
 * `maand openapi [--output FILE]`: the runtime API contract for external tools, rendered from
 * the router by the same code that writes openapi/openapi.json (so the bytes are identical).
 * Needs no bucket.
 */
export default async function openapi(_bucket: string, options: { output?: string }): Promise<number> {
  const text = renderDocument(routerDocument());
  if (options.output === undefined) {
    process.stdout.write(text);
    return 0;
  }
  try {
    writeFileSync(options.output, text);
  } catch (err) {
    throw new MaandError(`cannot write ${options.output}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  console.error(`wrote ${options.output}`);
  return 0;
}
