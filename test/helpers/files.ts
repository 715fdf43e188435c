import { readdirSync } from "node:fs";
import { join } from "node:path";

/** Every file under dir, recursively: what the secret-leak tests read back (logs/, tmp/). */
export function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)]));
}
