/**
 * `npm run demo`: the README's main job. Creates ./demo-bucket from the embedded default
 * workspace (demo/workspace), then drives the real `maand` CLI the way an operator would,
 * printing each command before its output. Hooks run on this host and never contact a worker.
 */
import { spawnSync } from "node:child_process";
import { cpSync, rmSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const maand = join(repo, "bin", "maand.js");
const bucket = resolve(process.argv[2] ?? "demo-bucket");

function step(args: string[], note: string): void {
  console.log(`\n# ${note}\n$ maand ${args.join(" ")}`);
  const r = spawnSync(process.execPath, [maand, "--bucket", bucket, ...args], { stdio: "inherit" });
  if (r.status !== 0) {
    console.error(`\ndemo: 'maand ${args.join(" ")}' exited ${r.status}`);
    process.exit(r.status ?? 1);
  }
}

rmSync(bucket, { recursive: true, force: true });
step(["init"], `a fresh bucket in ${bucket}`);
cpSync(join(repo, "demo", "workspace"), join(bucket, "workspace"), { recursive: true });
// The demo's hooks talk to the runtime API on a free port so the demo never clashes with a
// real maand on 8080.
spawnSync("sed", ["-i", "s/^hook_api_port = .*/hook_api_port = 0/", join(bucket, "maand.conf")]);
console.log(`\n# copied demo/workspace into ${bucket}/workspace: 3 loopback workers, jobs database, api, web`);

step(["build"], "validate the workspace, write catalog + KV, run post_build hooks (api: hook_inventory, Bun)");
step(["cat", "workers"], "what build derived");
step(["cat", "jobs"], "jobs in deployment_seq order (api demands database)");
step(["cat", "allocations"], "one allocation per job x matching worker");
step(["cat", "hooks"], "hooks per event");
step(["hooks", "hook_schema", "database", "--verbose"], "Python hook: schema version + admin secret (encrypted), lists its downstream demands");
step(["hooks", "hook_migrate", "api", "--verbose"], "Python hook on 3 allocations in batches of 2, serialised by a semaphore, reading upstream KV");
step(["hooks", "hook_warm", "web", "--verbose"], "Bun hook: sets a reversed rollout order for the next run");
step(["hooks", "hook_warm", "web", "--verbose"], "...which the next run uses (ROLLOUT_ORDER_SOURCE=kv)");
step(["cat", "kv", "--jobs", "api,database"], "KV written by build and hooks (secrets shown as <encrypted>)");
step(["info"], "bucket summary");
console.log(`\ndemo finished: the bucket is in ${bucket}; try 'node bin/maand.js --bucket ${bucket} cat kv'`);
