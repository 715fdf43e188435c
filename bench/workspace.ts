/**
 * Workspace reading, against floors measured in the same run (unit tests check that these
 * workspaces read correctly; how fast is measured here):
 *
 * - readJobFiles on a job of 5,000 small files vs the floor: a bare recursive readdir that
 *   reads and SHA-256s every file (what reading a job into the catalog cannot avoid).
 *   Target: <= 3x floor.
 * - readWorkspace (parse and validate everything) on 500 workers x 50 jobs vs the floor: a bare
 *   walk of the same workspace reading every file, hashing job files and parsing the JSON and
 *   TOML ones. Target: <= 10x floor: checking every field of 500 workers and 50 manifests,
 *   normalising hosts and ordering the demand graph costs several parses' worth (the unit test
 *   this replaces allowed a whole second; it takes tens of milliseconds).
 *
 *   node dist/bench/workspace.js [rounds]
 */
import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse as parseToml } from "smol-toml";
import { DEFAULT_CONF } from "../server/bucket/conf.js";
import { bucketPaths } from "../server/bucket/paths.js";
import { readJobFiles } from "../server/workspace/job-files.js";
import { Problems } from "../server/workspace/problems.js";
import { readWorkspace } from "../server/workspace/read.js";
import { makeBucket, writeWorkspace } from "../test/helpers/bucket.js";
import { largeValidWorkspace, writeManyFiles } from "../test/workspace/helpers.js";

const ROUNDS = Number(process.argv[2] ?? 5);

/** Every file under `dir`: read, hashed, and parsed when JSON or TOML. Returns the file count. */
function bareWalk(dir: string, parse: boolean): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile()) continue;
    const content = readFileSync(join(e.parentPath, e.name));
    createHash("sha256").update(content).digest("hex");
    if (parse && e.name.endsWith(".json")) JSON.parse(content.toString("utf8"));
    else if (parse && (e.name.endsWith(".toml") || e.name.endsWith(".conf"))) parseToml(content.toString("utf8"));
    n++;
  }
  return n;
}

/** Best of ROUNDS, alternating the two sides so load from other processes hits both alike. */
function compare(measured: () => void, floor: () => void): { ms: number; floorMs: number } {
  let ms = Infinity;
  let floorMs = Infinity;
  for (let i = 0; i < ROUNDS; i++) {
    let t = performance.now();
    floor();
    floorMs = Math.min(floorMs, performance.now() - t);
    t = performance.now();
    measured();
    ms = Math.min(ms, performance.now() - t);
  }
  return { ms, floorMs };
}

function report(name: string, what: string, target: number, { ms, floorMs }: { ms: number; floorMs: number }): void {
  const ratio = ms / floorMs;
  console.log(`RESULT ${name} ${ms.toFixed(1)} ms vs floor ${floorMs.toFixed(1)} ms = ${ratio.toFixed(2)}x (target <= ${target}x) ${ratio <= target ? "OK" : "OVER"}; ${what}`);
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "maand-bench-ws-"));
  const bucket = await makeBucket("maand-bench-ws-");
  try {
    const job = join(dir, "many");
    writeManyFiles(job, 50, 100);
    report(
      "job-files",
      "5,000 small files",
      3,
      compare(
        () => {
          if (readJobFiles(new Problems().in("many"), job).length !== 5000) throw new Error("readJobFiles missed files");
        },
        () => {
          if (bareWalk(job, false) !== 5000) throw new Error("the floor missed files");
        },
      ),
    );

    writeWorkspace(bucket.root, largeValidWorkspace(500, 50));
    const paths = bucketPaths(bucket.root);
    report(
      "workspace",
      "500 workers x 50 jobs read and validated",
      10,
      compare(
        () => {
          if (readWorkspace(paths, DEFAULT_CONF).jobs.length !== 50) throw new Error("readWorkspace missed jobs");
        },
        () => void bareWalk(paths.workspace, true),
      ),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
    bucket.cleanup();
  }
}

await main();
