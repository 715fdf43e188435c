import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * Files shipped with maand that hooks need: the generated SDKs and the bundled Bun. Located
 * from this module's own path, never the working directory, so an installed maand finds them
 * wherever the operator runs it.
 */
export function packageRoot(from: string = fileURLToPath(import.meta.url)): string {
  let dir = dirname(from);
  for (;;) {
    const pkg = join(dir, "package.json");
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, "utf8")) as { name?: string }).name === "maand") return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error(`cannot find maand's package.json above ${from}`);
    dir = up;
  }
}

/** Staged path (relative to the job directory) -> shipped SDK file. */
export function sdkFiles(root: string = packageRoot()): Array<{ path: string; source: string }> {
  return [
    { path: "_hooks/maand.py", source: join(root, "sdk-python", "maand.py") },
    { path: "_hooks/maand.ts", source: join(root, "sdk-ts", "maand.ts") },
  ];
}

/** The Bun binary of the `bun` npm package installed with maand, if any. */
export function bundledBun(root: string = packageRoot()): string | undefined {
  try {
    const req = createRequire(join(root, "package.json"));
    const pkgFile = req.resolve("bun/package.json");
    const bin = (JSON.parse(readFileSync(pkgFile, "utf8")) as { bin?: Record<string, string> }).bin?.bun;
    const file = bin ? join(dirname(pkgFile), bin) : undefined;
    return file && existsSync(file) ? file : undefined;
  } catch {
    return undefined;
  }
}
