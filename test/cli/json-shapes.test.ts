import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { jsonError, REPO } from "../helpers/cli.js";
import { hookBucket, maand, recorderPy, workers, type HookBucket } from "../hooks/fixture.js";

/**
 * One JSON shape for every `--json` output: snake_case keys, no JSON inside JSON strings, and a
 * shape (keys and value types, not values) per command pinned in json-shapes.snapshot.json, so
 * a change to what scripts parse is a deliberate one. MAAND_UPDATE_SNAPSHOTS=1 rewrites the file.
 */

const SNAPSHOT = join(REPO, "test", "cli", "json-shapes.snapshot.json");

type Shape = string | Shape[] | { [k: string]: Shape };

/** Keys and types; arrays by the shape of their first element; env maps (upper-case keys) as one entry. */
function shape(v: unknown): Shape {
  if (v === null) return "null";
  if (Array.isArray(v)) return v.length ? [shape(v[0])] : [];
  if (typeof v === "object") {
    const entries = Object.entries(v as Record<string, unknown>);
    if (entries.length && entries.every(([k]) => /^[A-Z][A-Z0-9_]*$/.test(k))) return { "<VARIABLE>": "string" };
    if (entries.length && entries.every(([k]) => /[./@]/.test(k))) return { "<name>": shape(entries[0]![1]) };
    return Object.fromEntries(entries.sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, x]) => [k, shape(x)]));
  }
  return typeof v;
}

/** Every object key a script reads is snake_case, and no string holds JSON. */
function checkConventions(v: unknown, where: string, manifest = false): void {
  if (Array.isArray(v)) return v.forEach((x, i) => checkConventions(x, `${where}[${i}]`, manifest));
  if (v && typeof v === "object") {
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      // A manifest is the operator's own document, and env and KV maps are keyed by names.
      const named = manifest || /^[A-Z][A-Z0-9_]*$/.test(k) || /[./@]/.test(k);
      if (!named) assert.match(k, /^[a-z][a-z0-9_]*$/, `${where}.${k} is not snake_case`);
      checkConventions(x, `${where}.${k}`, manifest || k === "manifest" || k === "demand_config" || k === "health_check" || k === "tags");
    }
    return;
  }
  if (typeof v === "string" && /^\s*[[{]/.test(v)) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(v);
    } catch {
      return;
    }
    assert.fail(`${where} holds JSON inside a JSON string: ${JSON.stringify(parsed).slice(0, 80)}`);
  }
}

describe("--json on every command: one shape, pinned", () => {
  let b: HookBucket;
  const shapes: Record<string, Shape> = {};
  before(async () => {
    b = await hookBucket();
    await b.build({
      workers: [{ host: "10.0.0.1", labels: ["w"], tags: { zone: "a" } }, ...workers(2).slice(1)],
      jobs: {
        api: {
          manifest: {
            version: "1.0.0",
            selectors: ["w"],
            hooks: { hook_x: { executed_on: ["cli"], demands: { job: "db", hook: "hook_db", config: { min_version: "1.0.0", flag: "x" } } }, hook_fail: { executed_on: ["cli"] } },
            health_check: { checks: [{ type: "tcp", port: 1 }] },
          },
          files: { "_hooks/hook_x.py": recorderPy("from maand import put_job_variable\nput_job_variable('k', 'v').raise_for_status()"), "_hooks/hook_fail.py": "raise SystemExit(4)\n" },
        },
        db: { manifest: { version: "1.0.0", selectors: ["w"], hooks: { hook_db: { executed_on: ["cli"] } } }, files: { "_hooks/hook_db.py": "print(1)\n" } },
      },
    });
  });
  after(() => b.cleanup());

  const COMMANDS: Array<[string, string[], number?]> = [
    ["build", ["build", "--json"]],
    ["build --dry-run", ["build", "--dry-run", "--json"]],
    ["cat workers", ["cat", "workers", "--json"]],
    ["cat jobs", ["cat", "jobs", "--json"]],
    ["cat allocations", ["cat", "allocations", "--json"]],
    ["cat hooks", ["cat", "hooks", "--json"]],
    ["cat kv", ["cat", "kv", "--json"]],
    ["cat certs", ["cat", "certs", "--json"]],
    ["cat kv get", ["cat", "kv", "get", "maand/bucket", "jobs", "--json"]],
    ["hooks --dry-run", ["hooks", "hook_x", "api", "--dry-run", "--json"]],
    ["hooks", ["hooks", "hook_x", "api", "--json"]],
    ["gc --dry-run", ["gc", "--dry-run", "--json"]],
    ["gc", ["gc", "--json"]],
    ["info", ["info", "--json"]],
    ["init (existing bucket)", ["init", "--json"]],
  ];

  for (const [name, args] of COMMANDS) {
    it(`${name}: snake_case, no JSON in strings`, () => {
      const r = maand(b.root, ...args);
      assert.equal(r.status, 0, `${args.join(" ")}: ${r.stderr}`);
      const value = JSON.parse(r.stdout) as unknown;
      checkConventions(value, name);
      shapes[name] = shape(value);
    });
  }

  it("errors: one JSON object on stderr with message, code and detail; stdout stays empty", () => {
    const failed = maand(b.root, "hooks", "hook_fail", "api", "--json");
    assert.equal(failed.status, 3);
    const err = { error: jsonError<{ failed: unknown[] }>(failed.stderr) };
    assert.equal(err.error.code, "HOOK_RUN_FAILED");
    assert.match(err.error.message, /hook run \S+ failed on 1 allocation:/);
    assert.equal(err.error.detail!.failed.length, 1);
    checkConventions(err, "hooks error");
    shapes["error (hook run failed)"] = shape(err);
    const usage = maand(b.root, "hooks", "hook_x", "api", "--concurrency", "0", "--json");
    assert.equal(usage.status, 2);
    assert.equal((JSON.parse(usage.stderr.trim()) as { error: { code: string } }).error.code, "USAGE");
  });

  it("the shapes match the pinned snapshot (MAAND_UPDATE_SNAPSHOTS=1 to accept a deliberate change)", () => {
    if (process.env.MAAND_UPDATE_SNAPSHOTS === "1" || !existsSync(SNAPSHOT)) writeFileSync(SNAPSHOT, `${JSON.stringify(shapes, null, 2)}\n`);
    assert.deepEqual(shapes, JSON.parse(readFileSync(SNAPSHOT, "utf8")));
  });
});
