import { Command, Option } from "commander";
import { MaandError } from "../server/errors.js";
import { escapeLines } from "../server/text/escape.js";

/**
 * The `maand` entry point. Start-up must stay fast (`maand --help` well under 300 ms), so this
 * file imports only commander: every action loads its command module (and through it SQLite,
 * tRPC, zod, ...) when it runs.
 */
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
    .addOption(new Option("--bucket <dir>", "bucket directory").default(process.cwd(), "the current directory"))
    .addHelpText(
      "after",
      "\nExit status: 0 success; 1 invalid workspace or other failure (bucket locked, unknown job or hook);\n" +
        "2 usage error or not a bucket; 3 a hook or a deploy step failed; 4 a worker unreachable;\n130 interrupted (Ctrl-C).",
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
    .action(run(() => import("./commands/init.js")));

  program.command("build").description("validate the workspace and write catalog + KV in one transaction")
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
    const kv = c.command("kv").description("latest version of every KV key (secrets shown as <encrypted>)").addOption(json())
      .option("--jobs <a,b>", "only namespaces of these jobs").option("--workers <ip,ip>", "only namespaces of these workers")
      .option("--active", "only live keys (no tombstones, no expired keys)")
      .action(run(() => cat().then((m) => ({ default: m.kv }))));
    kv.command("get").description("print one value; secrets need --reveal").argument("<namespace>").argument("<key>")
      .option("--reveal", "print a secret value")
      .action(run(() => cat().then((m) => ({ default: m.kvGetValue }))));
  }

  program.command("deploy").description("deploy the built jobs to their workers over SSH, wave by wave (plan with --dry-run)")
    .option("--jobs <a,b>", "only these jobs").option("--dry-run", "print the plan (per allocation: action and reason) and contact no worker")
    .option("--force", "restart every active allocation").option("--build", "run maand build first")
    .option("--sync-only", "sync files and promote, run no lifecycle target (fails when an allocation needs a start)")
    .option("--json", "print the plan and the result as JSON (progress on stderr)").option("--verbose", "stream hook and make output")
    .action(run(() => import("./commands/deploy.js")));

  {
    // A command group: the control verbs here, `job create` joins them (another branch).
    const control = () => import("./commands/job-control.js");
    const job = program.command("job").description("create and control jobs");
    const allocations = () => new Option("--allocations <ip,ip>", "only these active allocations");
    const common = (c: Command) => c.addOption(allocations()).option("--dry-run", "print the batches and run nothing").option("--json", "print the plan and the result as JSON").option("--verbose", "stream make and hook output");
    for (const verb of ["start", "stop", "restart", "reload"] as const) {
      common(job.command(verb).description(`make ${verb} on the job's active allocations in rollout batches (or its job_control hooks with TARGET=${verb})`).argument("<job>"))
        .action(run(() => control().then((m) => ({ default: m[verb] }))));
    }
    common(job.command("run").description("run any Makefile target of the job on its active allocations in rollout batches").argument("<job>").requiredOption("--target <target>", "the Makefile target"))
      .action(run(() => control().then((m) => ({ default: m.run }))));
    common(job.command("status").description("the job's status target on every active allocation, beside deployed version and state (changes nothing)").argument("<job>"))
      .action(run(() => control().then((m) => ({ default: m.status }))));
  }

  program.command("gc").description("purge removed allocations and old KV history")
    .option("--retain-days <n>", "keep tombstoned/superseded KV history this many days", "7")
    .action(run(() => import("./commands/gc.js")));

  program.command("hooks").description("run a hook registered for cli on its job's allocations (every job registering it when no job is given)")
    .argument("<hook>").argument("[job]")
    .option("--allocations <ip,ip>", "only these allocations").option("--verbose", "stream hook output, prefixed with [ip job hook]")
    .option("--dry-run", "print the plan (order, batches, environment) and run nothing").option("--json", "print the plan or the run summary as JSON")
    .action(run(() => import("./commands/hooks.js")));

  program.command("info").description("bucket id, paths, counts and schema version").option("--json", "print JSON")
    .action(run(() => import("./commands/info.js")));

  program.command("openapi").description("print the runtime API's OpenAPI document (no bucket needed)")
    .option("--output <file>", "write it to FILE instead of stdout")
    .action(run(() => import("./commands/openapi.js")));

  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof MaandError) {
      // Messages quote user input (names, paths, values from files): printed escaped, whatever
      // the raising module did, so no message can drive the terminal.
      console.error(`maand: ${escapeLines(err.message)}`);
      process.exit(err.exitCode);
    }
    throw err;
  }
}
