/**
 * Hook fan-out and staging, measured side by side in one run.
 *
 *   node dist/bench/hooks.js [--only fanout|staging] [--allocations 200] [--rounds 3] [--files 5000] [--staging-allocations 20]
 *
 * 1. Fan-out: a trivial Python hook on 200 allocations with batch width 200, 16 and 1, through
 *    the whole engine (runtime API, planning, staging, registry, bash, logs, commit) against the
 *    floor: the same number of bare `python3 hook.py` spawns of the real python binary (not a
 *    version-manager shim), in the same waves of the same width, no maand. Target: <= 1.3x the
 *    floor at width 16. Rounds alternate floor and maand; the best of each is reported, so load
 *    from other processes on the machine does not decide the ratio.
 * 2. Staging: a job of 5,000 small files on 20 allocations (100,080 staged files with the hook
 *    and the SDKs), first and second staging. The second writes nothing but checks every file
 *    with one lstat against the manifest (size, mtime, mode), which is what repairs a copy a
 *    hook damaged. Target: second >= 5x faster.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeWorkspace, type WorkspaceFixture } from "../test/helpers/bucket.js";
import { initBucket } from "../server/bucket/init.js";
import { openBucket, type BucketContext } from "../server/bucket/context.js";
import { runBuild } from "../server/build/run.js";
import { planCliHooks } from "../server/hooks/cli-targets.js";
import { runHooksAllOrNothing } from "../server/hooks/run.js";
import { createStager } from "../server/hooks/stager.js";

const HOOK = 'print("ok")\n';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const hostOf = (i: number) => `10.1.${Math.floor(i / 250)}.${(i % 250) + 1}`;

async function bucketWith(ws: WorkspaceFixture): Promise<{ root: string; build(ws: WorkspaceFixture): Promise<void>; cleanup(): void }> {
  const root = mkdtempSync(join(tmpdir(), "maand-bench-hooks-"));
  await initBucket(root);
  writeFileSync(join(root, "maand.conf"), "hook_api_port = 0\n");
  const build = async (w: WorkspaceFixture) => {
    writeWorkspace(root, w);
    await withCtx(root, (ctx) => runBuild(ctx));
  };
  await build(ws);
  return { root, build, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

async function withCtx<T>(root: string, fn: (ctx: BucketContext) => Promise<T> | T): Promise<T> {
  const ctx = openBucket(root);
  try {
    return await fn(ctx);
  } finally {
    ctx.close();
  }
}

function fanOutWorkspace(n: number, width: number): WorkspaceFixture {
  return {
    workers: Array.from({ length: n }, (_, i) => ({ host: hostOf(i), labels: ["w"] })),
    jobs: { bench: { manifest: { version: "1.0.0", selectors: ["w"], max_concurrent_upgrades: width, hooks: { hook_bench: { executed_on: ["cli"] } } }, files: { "_hooks/hook_bench.py": HOOK } } },
  };
}

async function timeMaand(root: string): Promise<number> {
  return withCtx(root, async (ctx) => {
    const t0 = performance.now();
    const plan = planCliHooks(ctx, { hook: "hook_bench", job: "bench" });
    const result = await runHooksAllOrNothing(ctx, plan);
    const ms = performance.now() - t0;
    if (result.status !== "ok" || result.invocations.length === 0) throw new Error(`bench run ${result.status}`);
    return ms;
  });
}

/** The floor: bare spawns of the real python binary, in waves of `width`, from this process. */
async function timeFloor(python: string, script: string, n: number, width: number): Promise<number> {
  const once = () =>
    new Promise<void>((resolve, reject) => {
      const p = spawn(python, [script], { stdio: ["ignore", "pipe", "pipe"] });
      p.stdout.resume();
      p.stderr.resume();
      p.on("error", reject);
      p.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`python exited ${code}`))));
    });
  const t0 = performance.now();
  for (let done = 0; done < n; done += width) {
    await Promise.all(Array.from({ length: Math.min(width, n - done) }, once));
  }
  return performance.now() - t0;
}

async function fanOut(n: number, rounds: number): Promise<void> {
  const python = spawnSync("python3", ["-c", "import sys; sys.stdout.write(sys.executable)"], { encoding: "utf8" }).stdout;
  const b = await bucketWith(fanOutWorkspace(n, 200));
  const script = join(b.root, "workspace", "jobs", "bench", "_hooks", "hook_bench.py");
  try {
    const cold = await timeMaand(b.root); // first run stages 200 directories
    console.log(`fan-out: ${n} allocations, trivial Python hook (${python}), best of ${rounds} rounds`);
    console.log(`  first run incl. staging ${n} dirs: ${(cold / 1000).toFixed(2)} s`);
    console.log("  width   maand      floor      ratio");
    for (const width of [200, 16, 1]) {
      await b.build(fanOutWorkspace(n, width));
      await timeMaand(b.root); // warm-up at this width
      let floor = Infinity;
      let m = Infinity;
      for (let r = 0; r < rounds; r++) {
        floor = Math.min(floor, await timeFloor(python, script, n, width));
        m = Math.min(m, await timeMaand(b.root));
      }
      console.log(`  ${String(width).padStart(5)}   ${(m / 1000).toFixed(2).padStart(6)} s   ${(floor / 1000).toFixed(2).padStart(6)} s   ${(m / floor).toFixed(2)}x${width === 16 ? "  (target <= 1.30x)" : ""}`);
    }
  } finally {
    b.cleanup();
  }
}

async function staging(files: number, allocations: number): Promise<void> {
  const ws: WorkspaceFixture = {
    workers: Array.from({ length: allocations }, (_, i) => ({ host: hostOf(i), labels: ["w"] })),
    jobs: {
      big: {
        manifest: { version: "1.0.0", selectors: ["w"], hooks: { hook_bench: { executed_on: ["cli"] } } },
        files: {
          "_hooks/hook_bench.py": HOOK,
          ...Object.fromEntries(Array.from({ length: files }, (_, i) => [`data/d${Math.floor(i / 100)}/f${i}.txt`.replace(/^data\//, "files/"), `file ${i}\n`])),
        },
      },
    },
  };
  const b = await bucketWith(ws);
  try {
    const pass = () =>
      withCtx(b.root, (ctx) => {
        const stager = createStager({ paths: ctx.paths, db: ctx.db, kv: ctx.kv });
        const t0 = performance.now();
        let written = 0;
        let kept = 0;
        for (let i = 0; i < allocations; i++) {
          const r = stager.stage("big", hostOf(i)).result;
          written += r.written;
          kept += r.kept;
        }
        return { ms: performance.now() - t0, written, kept };
      });
    const first = await pass();
    const second = await pass();
    console.log(`staging: ${files} files x ${allocations} allocations`);
    console.log(`  first  ${(first.ms / 1000).toFixed(2)} s (${first.written} files written)`);
    console.log(`  second ${(second.ms / 1000).toFixed(3)} s (${second.written} files written, ${second.kept} checked by lstat)`);
    console.log(`  speed-up ${(first.ms / second.ms).toFixed(1)}x (target >= 5x)`);
  } finally {
    b.cleanup();
  }
}

const only = process.argv.includes("--only") ? process.argv[process.argv.indexOf("--only") + 1] : undefined;
if (only !== "staging") await fanOut(arg("allocations", 200), arg("rounds", 3));
if (only !== "fanout") await staging(arg("files", 5000), arg("staging-allocations", 20));
