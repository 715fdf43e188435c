import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { makeBucket, writeWorkspace, type WorkspaceFixture } from "../helpers/bucket.js";
import { openBucket, type BucketContext } from "../../server/bucket/context.js";
import { runBuild } from "../../server/build/run.js";
import { HOOK_ENV } from "../../server/hooks/env-names.js";

/** Repository root (dist/test/hooks/ -> ../../..). */
export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
export const MAAND_BIN = join(REPO, "bin", "maand.js");
export const SDK_PY = join(REPO, "sdk-python", "maand.py");

export interface HookBucket {
  root: string;
  /** Writes the workspace (replacing jobs/) and runs a real `maand build` in-process. */
  build(ws: WorkspaceFixture): Promise<void>;
  open(): BucketContext;
  /** Runs fn with an open (locked) context and closes it. */
  with<T>(fn: (ctx: BucketContext) => Promise<T> | T): Promise<T>;
  /** Env JSON lines the recorder hooks appended, in append order. */
  records(): Array<Record<string, string>>;
  clearRecords(): void;
  cleanup(): void;
}

/** A bucket (runtime API on a free port: makeBucket sets hook_api_port = 0) with build and record helpers. */
export async function hookBucket(): Promise<HookBucket> {
  const b = await makeBucket("maand-hooks-");
  const recordFile = join(b.root, "record.jsonl");
  const open = () => openBucket(b.root);
  const withCtx = async <T>(fn: (ctx: BucketContext) => Promise<T> | T): Promise<T> => {
    const ctx = open();
    try {
      return await fn(ctx);
    } finally {
      ctx.close();
    }
  };
  return {
    root: b.root,
    async build(ws) {
      writeWorkspace(b.root, ws);
      await withCtx((ctx) => runBuild(ctx));
    },
    open,
    with: withCtx,
    records() {
      if (!existsSync(recordFile)) return [];
      return readFileSync(recordFile, "utf8")
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, string>);
    },
    clearRecords() {
      writeFileSync(recordFile, "");
    },
    cleanup: b.cleanup,
  };
}

/** n workers 10.0.0.1..n, all labelled "w". */
export const workers = (n: number, label = "w") => Array.from({ length: n }, (_, i) => ({ host: `10.0.0.${i + 1}`, labels: [label] }));

const ENV_KEYS = JSON.stringify([...Object.values(HOOK_ENV)]);

/**
 * A Python hook that appends its maand environment as one JSON line to $BUCKET_ROOT/record.jsonl
 * (O_APPEND: parallel hooks do not interleave), then runs `body`.
 */
export function recorderPy(body = ""): string {
  return `import json, os, sys
KEYS = ${ENV_KEYS}
rec = {k: os.environ[k] for k in KEYS if k in os.environ}
rec["cwd"] = os.getcwd()
rec["executable"] = sys.executable
with open(os.path.join(os.environ["BUCKET_ROOT"], "record.jsonl"), "a") as f:
    f.write(json.dumps(rec) + "\\n")
${body}
`;
}

/** The same for Bun (.ts). */
export function recorderTs(body = ""): string {
  return `import { appendFileSync } from "node:fs";
const KEYS: string[] = ${ENV_KEYS};
const rec: Record<string, string> = {};
for (const k of KEYS) if (process.env[k] !== undefined) rec[k] = process.env[k]!;
rec.cwd = process.cwd();
rec.executable = process.execPath;
appendFileSync(process.env.BUCKET_ROOT + "/record.jsonl", JSON.stringify(rec) + "\\n");
${body}
`;
}

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** `node bin/maand.js --bucket ROOT ...args` as a real process. */
export function maand(root: string, ...args: string[]): CliResult {
  const r = spawnSync(process.execPath, [MAAND_BIN, "--bucket", root, ...args], { encoding: "utf8", timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

export function maandAsync(root: string, ...args: string[]): ChildProcess {
  return spawn(process.execPath, [MAAND_BIN, "--bucket", root, ...args], { stdio: ["ignore", "pipe", "pipe"] });
}

export function collect(child: ChildProcess): Promise<CliResult> {
  let stdout = "";
  let stderr = "";
  child.stdout?.setEncoding("utf8").on("data", (d: string) => (stdout += d));
  child.stderr?.setEncoding("utf8").on("data", (d: string) => (stderr += d));
  return new Promise((res) => child.on("close", (status) => res({ status, stdout, stderr })));
}

/** Whether a process is running (a zombie is not: it has exited and only awaits reaping). */
export function processRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    const state = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0];
    return state !== "Z" && state !== "X";
  } catch {
    return false;
  }
}

export async function waitFor(cond: () => boolean, timeoutMs = 10_000, what = "condition"): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
