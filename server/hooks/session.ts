import { InvocationRegistry } from "../api/registry.js";
import { startRuntimeApi } from "../api/server.js";
import type { BucketContext } from "../bucket/context.js";
import type { KvSession } from "../store/kv-session.js";
import { executeHookPlan, type ExecuteDeps } from "./execute.js";
import type { HookRunPlan } from "./plan-types.js";
import { RedactingKvSession, Redactor } from "./redaction.js";
import type { HookReporter } from "./reporter.js";
import type { HookRunResult } from "./result.js";
import { logCapNotice, newRunId, openRunLogs } from "./run-logs.js";
import { hookProcessRecord } from "./orphans.js";
import { openEventLog } from "../rollout/events.js";
import { recordingReporter, type HookEventTarget } from "./step-events.js";

/**
 * One maand command's hook session (the note's "Execution model"): a KV session layer shared by
 * every hook, the invocation registry, and the runtime API started once before the first hook
 * and stopped at the end. Committing is the owner's decision (all-or-nothing for `maand hooks`,
 * checkpoints for deploy); close() never commits.
 */
export interface HookSession {
  kv: KvSession;
  registry: InvocationRegistry;
  apiPort: number;
  apiUrl: string;
  /** Runs a plan inside this session; each call is one run with its own run id and logs. */
  run(plan: HookRunPlan, options?: RunOptions): Promise<HookRunResult>;
  /** Stops the API (running invocations must have ended). Safe to call twice. */
  close(): Promise<void>;
}

export interface RunOptions {
  reporter?: HookReporter;
  signal?: AbortSignal;
  /** Overrides for tests and benchmarks (kill grace, base environment, the stage and spawn steps). */
  execute?: Partial<Pick<ExecuteDeps, "killGraceMs" | "baseEnv" | "stage" | "spawn">>;
  /** Run inside an owner's run (deploy, job control): its run id, so logs share one directory. */
  runId?: string;
  /**
   * Where the run's step records go (the owner's events.jsonl and result). Without it the run
   * writes its own logs/runs/<run_id>/events.jsonl.
   */
  events?: HookEventTarget;
}

export async function openHookSession(ctx: BucketContext, options: { kv?: KvSession; redactor?: Redactor } = {}): Promise<HookSession> {
  // One redactor per session: secrets written by any hook of the session stay out of every log.
  // An owner (deploy) passes its own, so what pre_deploy writes is masked in make output too.
  const redactor = options.redactor ?? new Redactor();
  const kv = options.kv ?? new RedactingKvSession(ctx.kv, redactor);
  const registry = new InvocationRegistry();
  const api = await startRuntimeApi({ db: ctx.db, kv, registry, auth: ctx.conf.hook_api_auth }, { port: ctx.conf.hook_api_port });
  return {
    kv,
    registry,
    apiPort: api.port,
    apiUrl: api.url,
    async run(plan, runOptions = {}) {
      const runId = runOptions.runId ?? newRunId(ctx.clock.now());
      const logs = openRunLogs({ logsDir: ctx.paths.logs, runId, format: ctx.conf.log_format, now: () => ctx.clock.now(), onCapped: (t) => runOptions.reporter?.warning?.(logCapNotice(t)) });
      const own = runOptions.events ? undefined : openEventLog(ctx.paths.logs, runId);
      const events: HookEventTarget = runOptions.events ?? { sink: (r) => own!.write(r), command: "hooks" };
      try {
        return await executeHookPlan(plan, {
          paths: ctx.paths,
          db: ctx.db,
          kv,
          registry,
          apiPort: api.port,
          logs,
          redactor,
          reporter: recordingReporter(runOptions.reporter, events, runId, () => ctx.clock.now()),
          signal: runOptions.signal,
          clock: ctx.clock,
          processes: hookProcessRecord(ctx.paths),
          ...runOptions.execute,
        });
      } finally {
        logs.close();
        own?.close();
      }
    },
    close: () => api.stop(),
  };
}
