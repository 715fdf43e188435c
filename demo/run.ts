/**
 * `npm run demo`: the README's main job. Creates ./demo-bucket from the embedded default
 * workspace (demo/workspace), then drives the real `maand` CLI the way an operator would,
 * printing each command before its output. Hooks run on this host. One step fails on purpose
 * (a failing hook and its report); the demo still exits 0. As root with openssh-server
 * installed, the demo also starts the workspace's three workers as real sshd test workers on
 * their loopback addresses (test/workers/, each with a private /opt/worker) and deploys to
 * them; otherwise it says why it skips that part.
 */
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { connectBucket, startWorkers, testWorkersUnavailable, WORKER_MOUNT, type WorkerSet } from "../test/workers/workers.js";
import { bucketDir } from "../server/workers/layout.js";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const maand = join(repo, "bin", "maand.js");
const bucket = resolve(process.argv[2] ?? "demo-bucket");

class StepFailed extends Error {}

function run(args: string[], note: string): number | null {
  console.log(`\n# ${note}\n$ maand ${args.join(" ")}`);
  // stderr joins stdout, so the failure report prints where an operator would see it.
  const r = spawnSync(process.execPath, [maand, "--bucket", bucket, ...args], { stdio: ["inherit", "inherit", 1] });
  return r.status;
}

function step(args: string[], note: string): void {
  const status = run(args, note);
  if (status !== 0) throw new StepFailed(`\ndemo: 'maand ${args.join(" ")}' exited ${status}`);
}

/** A command the demo runs to show a failure: it must fail, and the demo goes on. */
function failingStep(args: string[], note: string): void {
  const status = run(args, note);
  if (status === 0) throw new StepFailed(`\ndemo: 'maand ${args.join(" ")}' was meant to fail and exited 0`);
  console.log(`(exit status ${status}, as intended)`);
}

/** The demo's workers.json hosts, as real sshd workers; maand.conf reaches them as root on their port. */
async function startDemoWorkers(): Promise<WorkerSet> {
  const hosts = (JSON.parse(readFileSync(join(bucket, "workspace", "workers.json"), "utf8")) as Array<{ host: string }>).map((w) => w.host);
  const set = await startWorkers(hosts.length, { hosts, dir: mkdtempSync(join(tmpdir(), "maand-demo-workers-")) });
  connectBucket(bucket, set);
  return set;
}

/** A file as deploy left it on a worker: templates rendered there, the .tpl not sent. */
function showRendered(set: WorkerSet, i: number, rel: string): void {
  const w = set.workers[i]!;
  const info = spawnSync(process.execPath, [maand, "--bucket", bucket, "info", "--json"], { encoding: "utf8" });
  const onWorker = join(w.optDir, relative(WORKER_MOUNT, bucketDir((JSON.parse(info.stdout) as { bucket_id: string }).bucket_id)), rel);
  console.log(`\n# ${rel} on ${w.ip} (its /opt/worker is ${w.optDir}), rendered from ${rel}.tpl:\n${readFileSync(onWorker, "utf8")}`);
}

async function main(): Promise<number> {
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
  step(["hooks", "hook_migrate", "api", "--dry-run"], "the plan of the next run: rollout order, batches of 2, interpreter and one-shot per allocation; nothing runs");
  step(["hooks", "hook_migrate", "api", "--verbose"], "Python hook on 3 allocations in batches of 2, serialised by a semaphore, reading upstream KV");
  step(["hooks", "hook_warm", "web", "--verbose"], "Bun hook: sets a reversed rollout order for the next run");
  step(["hooks", "hook_warm", "web", "--verbose"], "...which the next run uses (ROLLOUT_ORDER_SOURCE=kv)");
  failingStep(["hooks", "hook_check", "web"], "a hook that fails on 127.0.0.13: the report names the worker, its exit code and last lines; its KV writes are rolled back");
  step(["logs", "show", "--job", "web", "--hook", "hook_check"], "the failed run's log lines (the latest run of web's hook_check)");
  step(["cat", "kv", "--jobs", "api,database"], "KV written by build and hooks (secrets shown as <encrypted>)");

  const unavailable = testWorkersUnavailable();
  if (unavailable) {
    console.log(`\n# deploy skipped: ${unavailable}.\n# Run the demo as root with openssh-server installed to see maand deploy to three sshd workers on loopback.`);
  } else {
    const set = await startDemoWorkers();
    console.log(`\n# started 3 real sshd workers on ${set.workers.map((w) => w.ip).join(", ")} port ${set.port} (test/workers/), each with a private /opt/worker`);
    try {
      step(["deploy", "--dry-run"], "the deploy plan: per wave, job and allocation one action and its reason; contacts no worker");
      step(["deploy"], "deploy: database first (wave 0), then api and web; templates rendered per allocation, make start in batches, web's batches gated by its health checks, then promote");
      showRendered(set, 1, "jobs/web/serve.conf");
      step(["cat", "deployments"], "what is promoted where");
      step(["health_check", "--wait"], "the manifests' probes (web: tcp + http against the service make start launched) on every active allocation");
      step(["deploy"], "nothing changed: every allocation is skipped and no worker is contacted");
      step(["job", "restart", "web", "--health_check"], "job control: make restart on web's allocations in rollout batches, then its health checks");
    } finally {
      await set.stop();
    }
  }
  step(["info"], "bucket summary");
  console.log(`\ndemo finished: the bucket is in ${bucket}; try 'node bin/maand.js --bucket ${bucket} cat kv'`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof StepFailed ? err.message : err);
    process.exit(1);
  },
);
