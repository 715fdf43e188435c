/**
 * Go's own text/template as an oracle: builds test/templates/go/render.go once into a temporary
 * directory and runs requests through it. Used by the differential test and bench/templates.ts.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPO } from "../helpers/cli.js";

export const ORACLE_SOURCE = join(REPO, "test", "templates", "go", "render.go");

/** A case as render.go reads it. */
export interface OracleCase {
  name: string;
  source: string;
  data: object;
  kv: Record<string, Record<string, string>>;
  deny: string[];
  ownJob: string;
  withMaps: boolean;
}

export type OracleResult = { output: string } | { error: string };

/** Why Go cannot be used, or undefined when `go` is on PATH. */
export function goUnavailable(): string | undefined {
  const r = spawnSync("go", ["version"], { encoding: "utf8" });
  if (r.error) return `\`go\` is not on PATH (${r.error.message}); install golang-go`;
  if (r.status !== 0) return `\`go version\` failed: ${r.stderr.trim()}`;
  return undefined;
}

export interface Oracle {
  /** The built binary. */
  binary: string;
  run(request: object): unknown;
  cases(cases: OracleCase[]): OracleResult[];
  cleanup(): void;
}

export function buildOracle(): Oracle {
  const dir = mkdtempSync(join(tmpdir(), "maand-go-oracle-"));
  const binary = join(dir, "render");
  // Without HOME, go has no default build cache; give it one that goes away with the binary.
  const env = process.env.GOCACHE || process.env.HOME ? process.env : { ...process.env, GOCACHE: join(dir, "cache") };
  const build = spawnSync("go", ["build", "-o", binary, ORACLE_SOURCE], { encoding: "utf8", env });
  if (build.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`go build ${ORACLE_SOURCE} failed:\n${build.stderr}`);
  }
  const run = (request: object): unknown => {
    const r = spawnSync(binary, { input: JSON.stringify(request), encoding: "utf8", maxBuffer: 1 << 28 });
    if (r.status !== 0) throw new Error(`${binary} exited ${r.status}:\n${r.stderr}`);
    return JSON.parse(r.stdout);
  };
  return {
    binary,
    run,
    cases: (cases) => (run({ cases }) as { results: OracleResult[] }).results,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
