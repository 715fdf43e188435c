import { Command, Option } from "commander";
import { MaandError } from "../server/errors.js";

/**
 * The `maand` entry point. Start-up must stay fast (`maand --help` well under 300 ms), so this
 * file imports only commander: every action loads its command module (and through it SQLite,
 * tRPC, zod, ...) when it runs.
 */
export async function main(argv: string[]): Promise<void> {
  const program = new Command("maand")
    .description("Agentless workload orchestrator: catalog, KV, hooks and SSH deploys from one CLI host")
    .addOption(new Option("--bucket <dir>", "bucket directory").default(process.cwd(), "the current directory"))
    .showHelpAfterError()
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

  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof MaandError) {
      console.error(`maand: ${err.message}`);
      process.exit(err.exitCode);
    }
    throw err;
  }
}
