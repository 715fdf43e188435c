import { openBucket } from "../../server/bucket/context.js";
import { runBuild } from "../../server/build/run.js";
import { renderBuildSummary } from "../render/build-summary.js";
import { kvFateText } from "../render/hook-summary.js";
import { HookRunFailed, HookRunInterrupted } from "../../server/hooks/errors.js";
import { MaandError } from "../../server/errors.js";

/** `maand build`. The hook engine plugs post_build hooks in through runBuild's afterCommit. */
export default async function build(bucket: string): Promise<number> {
  const ctx = openBucket(bucket);
  try {
    // Before validation: shown also when the workspace is refused.
    for (const w of ctx.confWarnings) console.error(`warning: ${w}`);
    await runBuild(ctx, {
      afterCommit: async (committed, result) => {
        for (const w of result.warnings) committed.log.warn(w);
        console.log(renderBuildSummary(result));
        // post_build hooks (SPEC §5); a failure fails the command, the committed build stays.
        const { postBuildHooks } = await import("./hooks.js");
        try {
          await postBuildHooks(committed);
        } catch (err) {
          if (!(err instanceof HookRunFailed || err instanceof HookRunInterrupted)) throw err;
          // Say plainly which half stuck: the catalog is the new one, the hooks' writes are gone.
          const fate = kvFateText(err.result.kv);
          throw new MaandError(`the build is committed; its post_build hooks did not finish and their KV writes were not (${fate}):\n${err.message}`, err.exitCode);
        }
      },
    });
    return 0;
  } finally {
    ctx.close();
  }
}
