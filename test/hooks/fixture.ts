import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { makeBucket, writeWorkspace, type WorkspaceFixture } from "../helpers/bucket.js";
import { openBucket, type BucketContext } from "../../server/bucket/context.js";
import { collect, maand, maandAsync, MAAND_BIN, REPO, type CliResult } from "../helpers/cli.js";
import { runBuild } from "../../server/build/run.js";
import { HOOK_ENV } from "../../server/hooks/env-names.js";

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

export { processRunning, waitFor } from "../helpers/wait.js";
export { collect, maand, maandAsync, MAAND_BIN, REPO, type CliResult };
