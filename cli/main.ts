import { readFileSync } from "node:fs";
import { Command, Option } from "commander";
import { MaandError } from "../server/errors.js";
import { escapeLines } from "../server/text/escape.js";

/**
 * The `maand` entry point. Start-up must stay fast (`maand --help` well under 300 ms), so this
 * file imports only commander: every action loads its command module (and through it SQLite,
 * tRPC, zod, ...) when it runs.
 */

/** package.json's version: this file runs from dist/cli/ or, bundled, dist/cli-bundle/; either way the package root is two levels up. */
function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version?: string };
  return pkg.version ?? "unknown";
}

export async function main(argv: string[]): Promise<void> {
  // `maand hooks ... | head`: a reader that goes away must not kill maand mid-run, which would
  // orphan running hooks and skip the commit or rollback; the rest of the output is dropped.
  for (const out of [process.stdout, process.stderr]) {
    out.on("error", (err: NodeJS.ErrnoException) => {
      if (err.code !== "EPIPE" && err.code !== "ERR_STREAM_DESTROYED") throw err;
    });
  }
  const program = new Command("maand")
    .description("Agentless workload orchestrator: catalog, KV, hooks and SSH deploys from one CLI host")
    .version(packageVersion(), "-V, --version", "print maand's version")
    .addOption(new Option("--bucket <dir>", "bucket directory").default(process.cwd(), "the current directory"))
    .addHelpText(
      "after",
      "\nExit status: 0 success; 1 invalid workspace or other failure (bucket locked, unknown job or hook);\n" +
        "2 usage error or not a bucket; 3 a hook, a deploy step or a health check failed; 4 a worker unreachable;\n130 interrupted (Ctrl-C).",
    )
    .showHelpAfterError()
    // commander quotes unknown options and arguments as typed: escaped like every other message.
    .configureOutput({ writeErr: (text) => process.stderr.write(escapeLines(text)) })
    .exitOverride((err) => {
      process.exit(err.exitCode === 0 ? 0 : 2);
    });

  const bucket = () => program.opts<{ bucket: string }>().bucket;
  const run = <A extends unknown[]>(load: () => Promise<{ default: (bucket: string, ...args: A) => Promise<number | void> }>) =>
    async (...args: A) => {
      const mod = await load();
      const code = await mod.default(bucket(), ...args);
      if (typeof code === "number" && code !== 0) process.exitCode = code;
    };

  program.command("init").description("create a bucket in --bucket (default: the current directory)")
    .option("--json", 'print {"created", "bucket_id", "root"}')
    .action(run(() => import("./commands/init.js")));

  program.command("build").description("validate the workspace and write catalog + KV in one transaction")
    .option("--dry-run", "print what the build would change (allocations added/removed/disabled/re-enabled, KV rows) and write nothing")
    .option("--yes", "go ahead with a build that removes more than half of the allocations or every worker")
    .option("--json", "print the result (or plan) as JSON")
    .action(run(() => import("./commands/build.js")));

  {
    const cat = () => import("./commands/cat.js");
    const json = () => new Option("--json", "print a JSON array with the catalog's column names");
    const c = program.command("cat").description("print catalog tables and KV (read-only, never waits for the lock)");
    c.command("workers").description("workers in catalog order").addOption(json())
      .action(run(() => cat().then((m) => ({ default: m.workers }))));
    c.command("jobs").description("jobs with deployment_seq").addOption(json())
      .action(run(() => cat().then((m) => ({ default: m.jobs }))));
    c.command("allocations").description("allocations, removed ones included").addOption(json())
      .option("--jobs <a,b>", "only these jobs").option("--workers <ip,ip>", "only these workers")
      .action(run(() => cat().then((m) => ({ default: m.allocations }))));
    c.command("deployments").description("per allocation: promoted and wanted version and content hash, state, last deploy").addOption(json())
      .option("--jobs <a,b>", "only these jobs").option("--workers <ip,ip>", "only these workers")
      .action(run(() => cat().then((m) => ({ default: m.deployments }))));
    c.command("hooks").description("hooks per job and event").addOption(json())
      .action(run(() => cat().then((m) => ({ default: m.hooks }))));
    c.command("certs").description("the bucket CA and every leaf in KV: subject, SANs, not-after, days left").addOption(json())
      .option("--jobs <a,b>", "only leaves of these jobs").option("--workers <ip,ip>", "only leaves of these workers")
      .action(run(() => cat().then((m) => ({ default: m.certs }))));
    const kv = c.command("kv").description("latest version of every KV key (secrets shown as <encrypted>)").addOption(json())
      .option("--jobs <a,b>", "only namespaces of these jobs").option("--workers <ip,ip>", "only namespaces of these workers")
      .option("--active", "only live keys (no tombstones, no expired keys)")
      .action(run(() => cat().then((m) => ({ default: m.kv }))));
    kv.command("get").description("print one value; secrets need --reveal").argument("<namespace>").argument("<key>")
      .option("--reveal", "print a secret value").option("--json", 'print {"namespace", "key", "value"}')
      // `cat kv` has --json too: commander gives it to the parent, so read it from there as well.
      .action(run(() => cat().then((m) => ({ default: (b: string, ns: string, key: string, o: { reveal?: boolean; json?: boolean }, cmd: Command) => m.kvGetValue(b, ns, key, { ...o, json: o.json || cmd.parent?.opts().json }) }))));
  }

  program.command("deploy").description("deploy the built jobs to their workers over SSH, wave by wave (plan with --dry-run)")
    .option("--jobs <a,b>", "only these jobs").option("--dry-run", "print the plan (per allocation: action and reason), render templates (exit 1 when one fails) and contact no worker")
    .option("--force", "restart every active allocation").option("--build", "run maand build first")
    .option("--sync-only", "sync files and promote, run no lifecycle target (fails when an allocation needs a start)")
    .option("--no-health-gate", "do not wait for the manifest's health checks after each start/update batch (the gate is on by default)")
    .option("--json", "print the plan and the result as JSON (progress on stderr)").option("--verbose", "stream hook and make output")
    .action(run(() => import("./commands/deploy.js")));

  {
    // One group: scaffolding (create) and the control verbs.
    const jobCmd = () => import("./commands/job.js");
    const control = () => import("./commands/job-control.js");
    const job = program.command("job").description("create and control jobs");
    job.command("create").description("scaffold workspace/jobs/<job>: manifest.json, Makefile, vars.toml and an example cli hook")
      .argument("<job>").option("--selectors <a,b>", "worker labels that place the job (default: the job name)")
      .action(run(() => jobCmd().then((m) => ({ default: m.create }))));
    const allocations = () => new Option("--allocations <ip,ip>", "only these active allocations");
    const common = (c: Command) => c.addOption(allocations()).option("--dry-run", "print the batches and run nothing").option("--json", "print the plan and the result as JSON").option("--verbose", "stream make and hook output");
    const healthCheck = (c: Command) =>
      c.option("--health_check", "then run the job's health checks (probes, with the manifest's wait, and health_check hooks) on those allocations; exit 3 when one fails");
    for (const verb of ["start", "stop", "restart", "reload"] as const) {
      const c = common(job.command(verb).description(`make ${verb} on the job's active allocations in rollout batches (or its job_control hooks with TARGET=${verb})`).argument("<job>"));
      // After a stop there is nothing to probe.
      (verb === "stop" ? c : healthCheck(c)).action(run(() => control().then((m) => ({ default: m[verb] }))));
    }
    healthCheck(common(job.command("run").description("run any Makefile target of the job on its active allocations in rollout batches").argument("<job>").requiredOption("--target <target>", "the Makefile target")))
      .action(run(() => control().then((m) => ({ default: m.run }))));
    common(job.command("status").description("the job's status target on every active allocation, beside deployed version and state (changes nothing)").argument("<job>"))
      .action(run(() => control().then((m) => ({ default: m.status }))));
  }

  {
    const logs = program.command("logs").description("read the hook run logs in logs/ (read-only, never waits for the lock)");
    logs.command("show").description("print the lines of one run (default: the latest run with a matching line), oldest first")
      .option("--run <run_id>", "this run (a directory name in logs/runs/)").option("--worker <ip>", "only this worker's lines")
      .option("--job <job>", "only this job's lines").option("--hook <hook>", "only this hook's lines")
      .option("--event <event>", "only lines of runs for this event (cli, post_build, ...)").option("--tail <n>", "only the last N lines")
      .option("--json", "one JSON object per line: ts, run_id, job, hook, event, worker, stream, line")
      .action(run(() => import("./commands/logs.js").then((m) => ({ default: m.show }))));
  }

  program.command("gc").description("purge removed allocations, old KV history and old run logs; rotate large worker logs")
    .option("--retain-days <n>", "keep tombstoned/superseded KV history and run logs this many days", "7")
    .option("--dry-run", "print what gc would purge, rotate and remove, and touch nothing")
    .option("--json", "print the plan or the result as JSON")
    .action(run(() => import("./commands/gc.js")));

  program.command("hooks").description("run a hook registered for cli on its job's allocations (every job registering it when no job is given)")
    .argument("<hook>").argument("[job]")
    .option("--allocations <ip,ip>", "only these allocations").option("--verbose", "stream hook output, prefixed with [ip job hook]")
    .option("--concurrency <n>", "batch width for this run instead of the manifest's max_concurrent_upgrades")
    .option("--build", "run 'maand build' first (hooks run the built snapshot of the workspace)")
    .option("--dry-run", "print the plan (order, batches, interpreter, one-shot, timeout) and run nothing")
    .option("--env", "with --dry-run: also every invocation's environment")
    .option("--json", "print the plan or the run summary as JSON")
    .action(run(() => import("./commands/hooks.js")));

  program.command("health_check").description("probe active allocations (tcp/http/ssh checks of each manifest), then run health_check hooks")
    .option("--jobs <a,b>", "only these jobs").option("--allocations <ip,ip>", "only these workers")
    .option("--wait", "retry each failing check per the manifest's wait (attempts, interval_seconds)")
    .option("--timeout <s>", "give up after this many seconds (checks and hooks)")
    .option("--verbose", "stream health_check hooks' output").option("--json", "print the report as JSON")
    .action(run(() => import("./commands/health-check.js")));

  program.command("info").description("bucket id, paths, counts and schema version").option("--json", "print JSON")
    .action(run(() => import("./commands/info.js")));

  program.command("openapi").description("print the runtime API's OpenAPI document (no bucket needed)")
    .option("--output <file>", "write it to FILE instead of stdout")
    .action(run(() => import("./commands/openapi.js")));

  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof MaandError) {
      // With --json, a script reads the error too: one JSON object on stderr (stdout stays JSON-only).
      if (argv.includes("--json")) console.error(JSON.stringify({ error: err.toJson() }));
      // Messages quote user input (names, paths, values from files): printed escaped, whatever
      // the raising module did, so no message can drive the terminal.
      else console.error(`maand: ${escapeLines(err.message)}`);
      process.exit(err.exitCode);
    }
    throw err;
  }
}
