import { openBucket } from "../../server/bucket/context.js";
import { runBuild } from "../../server/build/run.js";
import { HookRunFailed, HookRunInterrupted } from "../../server/hooks/errors.js";
import { MaandError } from "../../server/errors.js";
import { buildJson, renderBuildSummary } from "../render/build-summary.js";
import { kvFateText } from "../render/hook-summary.js";
import { renderJson } from "../render/table.js";

interface BuildOptions {
  dryRun?: boolean;
  yes?: boolean;
  json?: boolean;
  /** Another command's --build: its own output is the one on stdout, the build's goes to stderr. */
  quiet?: boolean;
}

/** `maand build [--dry-run] [--yes] [--json]`. The hook engine plugs post_build hooks in through runBuild's afterCommit. */
export default async function build(bucket: string, opts: BuildOptions = {}): Promise<number> {
  // A dry run writes nothing: no lock, no migration.
  const ctx = openBucket(bucket, { readonly: opts.dryRun ?? false });
  const print = (r: Parameters<typeof renderBuildSummary>[0]) =>
    opts.quiet ? process.stderr.write(`${renderBuildSummary(r)}\n`) : console.log(opts.json ? renderJson(buildJson(r)) : renderBuildSummary(r));
  try {
    // Before validation: shown also when the workspace is refused.
    for (const w of ctx.confWarnings) ctx.log.warn(w);
    const result = await runBuild(ctx, {
      dryRun: opts.dryRun,
      yes: opts.yes,
      afterCommit: async (committed, r) => {
        for (const w of r.warnings) committed.log.warn(w);
        print(r);
        // post_build hooks (SPEC §5); a failure fails the command, the committed build stays.
        const { postBuildHooks } = await import("./hooks.js");
        try {
          await postBuildHooks(committed, { json: opts.json || opts.quiet });
        } catch (err) {
          if (!(err instanceof HookRunFailed || err instanceof HookRunInterrupted)) throw err;
          // Say plainly which half stuck: the catalog is the new one, the hooks' writes are gone.
          const fate = kvFateText(err.result.kv);
          throw new MaandError(`the build is committed; its post_build hooks did not finish and their KV writes were not (${fate}):\n${err.message}`, err.exitCode);
        }
      },
    });
    if (result.dryRun) {
      for (const w of result.warnings) ctx.log.warn(w);
      print(result);
    }
    return 0;
  } finally {
    ctx.close();
  }
}
