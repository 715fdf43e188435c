import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { planCliHooks } from "../../server/hooks/cli-targets.js";
import { executeHookPlan, type ExecuteDeps } from "../../server/hooks/execute.js";
import type { HookProcessSpec, HookProcessResult } from "../../server/hooks/hook-process.js";
import { InvocationRegistry } from "../../server/api/registry.js";
import { Redactor } from "../../server/hooks/redaction.js";
import { newRunId, openRunLogs } from "../../server/hooks/run-logs.js";
import { HOOK_ENV } from "../../server/hooks/env-names.js";
import { hookBucket, recorderPy, workers, type HookBucket } from "./fixture.js";

/**
 * The hook executor with its two world-touching steps (staging, spawning) replaced by recorders:
 * any plan can be applied and its order, parallelism, stop-after-failure and per-invocation
 * results checked without processes.
 */
describe("executeHookPlan with a recording stage and spawn", { timeout: 60_000 }, () => {
  let b: HookBucket;
  before(async () => {
    b = await hookBucket();
    await b.build({
      workers: workers(5),
      jobs: { api: { manifest: { version: "1.0.0", selectors: ["w"], max_concurrent_upgrades: 2, hooks: { hook_x: { executed_on: ["cli"] } } }, files: { "_hooks/hook_x.py": recorderPy() } } },
    });
  });
  after(() => b.cleanup());

  async function apply(exitCodes: Record<string, number>, stageFails: string[] = []) {
    const spawned: Array<{ ip: string; batch: string; interpreter: string; registered: boolean }> = [];
    const registry = new InvocationRegistry();
    const waiting = new Map<string, Array<() => void>>();
    return b.with(async (ctx) => {
      const plan = planCliHooks(ctx, { hook: "hook_x", job: "api" });
      const sizes = new Map(plan.steps[0]!.batches.map((bt) => [String(bt.index), bt.invocations.length - bt.invocations.filter((i) => stageFails.includes(i.workerIp)).length]));
      const logs = openRunLogs({ logsDir: ctx.paths.logs, runId: newRunId(Date.now()), format: "text", now: () => Date.now() });
      const deps: ExecuteDeps = {
        paths: ctx.paths,
        db: ctx.db,
        kv: ctx.kv,
        registry,
        apiPort: 1,
        logs,
        redactor: new Redactor(),
        stage: (_job, ip) => {
          if (stageFails.includes(ip)) throw new Error(`disk full for ${ip}`);
          return { dir: `/staged/${ip}` };
        },
        spawn: async (spec: HookProcessSpec): Promise<HookProcessResult> => {
          const ip = spec.env[HOOK_ENV.allocationIp]!;
          const batch = spec.env[HOOK_ENV.batchIndex]!;
          spawned.push({ ip, batch, interpreter: spec.interpreter, registered: registry.get(spec.env[HOOK_ENV.allocationId]!) !== undefined });
          // Every invocation of a batch must be running at once before any of them ends.
          await new Promise<void>((resolve) => {
            const list = waiting.get(batch) ?? [];
            list.push(resolve);
            waiting.set(batch, list);
            if (list.length === sizes.get(batch)) for (const r of list) r();
          });
          spec.onExit?.();
          return { exitCode: exitCodes[ip] ?? 0, signal: null, timedOut: false, interrupted: false };
        },
      };
      try {
        return { plan, spawned, registry, result: await executeHookPlan(plan, deps) };
      } finally {
        logs.close();
      }
    });
  }

  it("applies the plan batch by batch, in parallel within a batch, with the plan's interpreter", async () => {
    const { plan, spawned, registry, result } = await apply({});
    assert.equal(result.status, "ok");
    assert.deepEqual(spawned.map((s) => s.batch), ["0", "0", "1", "1", "2"]);
    assert.deepEqual(result.invocations.map((i) => i.workerIp), plan.steps[0]!.rolloutOrder);
    assert.ok(spawned.every((s) => s.interpreter === plan.steps[0]!.interpreter && s.registered));
    assert.equal(registry.size, 0, "every invocation unregistered when it ended");
  });

  it("stops after the batch holding a failure; a staging error fails its invocation without a spawn", async () => {
    const { spawned, result } = await apply({ "10.0.0.3": 7 });
    assert.equal(result.status, "failed");
    assert.deepEqual(result.invocations.map((i) => `${i.workerIp}:${i.status}`), ["10.0.0.1:ok", "10.0.0.2:ok", "10.0.0.3:failed", "10.0.0.4:ok", "10.0.0.5:skipped"]);
    assert.equal(result.invocations[2]!.exitCode, 7);
    assert.ok(!spawned.some((s) => s.ip === "10.0.0.5"));
    const staged = await apply({}, ["10.0.0.2"]);
    assert.equal(staged.result.status, "failed");
    assert.equal(staged.result.invocations[1]!.error, "staging failed: disk full for 10.0.0.2");
    assert.ok(!staged.spawned.some((s) => s.ip === "10.0.0.2"));
    assert.deepEqual(staged.result.invocations.slice(2).map((i) => i.status), ["skipped", "skipped", "skipped"]);
  });
});
