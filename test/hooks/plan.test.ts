import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { HOOK_ENV, RUNTIME_ENV } from "../../server/hooks/env-names.js";
import { planHookRun } from "../../server/hooks/plan.js";
import type { HookPlanInput, HookRunPlan, HookRunRequest, PlanAllocation } from "../../server/hooks/plan-types.js";
import type { HookEvent } from "../../server/workspace/model.js";
import { MaandError } from "../../server/errors.js";

const ip = (n: number) => `10.0.0.${n}`;

interface Setup {
  upgrades?: number;
  starts?: number;
  disabled?: number[];
  removed?: number[];
  rollout?: string;
  workers?: number;
}

function input(request: Partial<HookRunRequest> & { event: HookEvent }, s: Setup = {}): HookPlanInput {
  const n = s.workers ?? 5;
  const allocations: PlanAllocation[] = Array.from({ length: n }, (_, i) => ({
    allocId: `alloc-${i + 1}`,
    job: "api",
    workerIp: ip(i + 1),
    disabled: s.disabled?.includes(i + 1) ?? false,
    removed: s.removed?.includes(i + 1) ?? false,
    // catalog order is the worker position, not the address
    position: i,
    currentVersion: i === 0 ? "1.1.0" : "0.0.0",
  }));
  return {
    request: { targets: [{ job: "api", hook: "hook_x" }], ...request },
    bucketRoot: "/b",
    jobs: [{ name: "api", version: "1.2.0", maxConcurrentUpgrades: s.upgrades ?? 1, maxConcurrentStarts: s.starts ?? 0, deploymentSeq: 0 }],
    allocations,
    hooks: [{ job: "api", hook: "hook_x", event: request.event, script: "_hooks/hook_x.py", timeoutSeconds: 60, interpreter: { path: "/usr/bin/python3" } }],
    rolloutOrders: { api: s.rollout },
    // what maand build stores as maand/job/api workers: the active workers in catalog order
  };
}

const invocations = (plan: HookRunPlan) => plan.steps.flatMap((s) => s.batches.flatMap((b) => b.invocations));
const workersOf = (plan: HookRunPlan) => invocations(plan).map((i) => i.workerIp);
const batchesOf = (plan: HookRunPlan) => plan.steps[0]!.batches.map((b) => b.workers);

describe("planHookRun: worker sets per event (SPEC §7.1)", () => {
  const setup = { disabled: [2], removed: [4] };

  for (const event of ["post_build", "pre_deploy", "post_deploy", "cli", "health_check"] as const) {
    it(`${event}: every non-removed allocation, disabled included`, () => {
      const plan = planHookRun(input({ event }, setup));
      assert.deepEqual(workersOf(plan), [ip(1), ip(2), ip(3), ip(5)]);
      assert.deepEqual(invocations(plan).map((i) => i.env.DISABLED), ["0", "1", "0", "0"]);
    });
  }

  it("deploy job_control: every allocated worker, disabled included", () => {
    assert.deepEqual(workersOf(planHookRun(input({ event: "job_control", jobControl: "deploy" }, setup))), [ip(1), ip(2), ip(3), ip(5)]);
  });

  it("job control job_control: active workers only, filtered by --allocations", () => {
    assert.deepEqual(workersOf(planHookRun(input({ event: "job_control", jobControl: "control", target: "restart" }, setup))), [ip(1), ip(3), ip(5)]);
    const filtered = planHookRun(input({ event: "job_control", jobControl: "control", target: "restart", allocations: [ip(5), ip(1)] }, setup));
    assert.deepEqual(workersOf(filtered), [ip(1), ip(5)]);
    assert.throws(
      () => planHookRun(input({ event: "job_control", jobControl: "control", allocations: [ip(2)] }, setup)),
      (e: Error) => e instanceof MaandError && /--allocations 10\.0\.0\.2: not an active allocation of job api/.test(e.message),
    );
  });

  it("cli --allocations keeps rollout order and rejects workers not in the job", () => {
    const plan = planHookRun(input({ event: "cli", allocations: [ip(5), ip(2)] }, setup));
    assert.deepEqual(workersOf(plan), [ip(2), ip(5)]);
    assert.deepEqual(plan.steps[0]!.rolloutOrder, [ip(2), ip(5)]);
    for (const bad of [ip(4) /* removed */, "10.9.9.9"]) {
      assert.throws(() => planHookRun(input({ event: "cli", allocations: [ip(1), bad] }, setup)), new RegExp(`--allocations ${bad.replace(/\./g, "\\.")}: not an allocation of job api`));
    }
  });

  it("after_allocation_started/stopped: exactly the workers deploy gives, in catalog order", () => {
    const started = planHookRun(input({ event: "after_allocation_started", workers: { api: [ip(5), ip(1)] } }, setup));
    assert.deepEqual(workersOf(started), [ip(1), ip(5)]);
    const stopped = planHookRun(input({ event: "after_allocation_stopped", workers: { api: [ip(4), ip(2)] }, phase: "stop" }, setup));
    assert.deepEqual(workersOf(stopped), [ip(2), ip(4)]);
    // A removed allocation has no index among its live peers.
    assert.deepEqual(invocations(stopped).map((i) => i.env.ALLOCATION_INDEX), ["1", "-1"]);
    assert.deepEqual(invocations(stopped).map((i) => i.env.DEPLOY_PHASE), ["stop", "stop"]);
    assert.throws(() => planHookRun(input({ event: "after_allocation_started" }, setup)), /need the list of workers/);
    assert.throws(() => planHookRun(input({ event: "after_allocation_started", workers: { api: ["10.9.9.9"] } }, setup)), /10\.9\.9\.9: not an allocation of job api/);
  });

  it("ALLOCATION_INDEX counts non-removed peers in catalog order", () => {
    const plan = planHookRun(input({ event: "cli" }, setup));
    assert.deepEqual(invocations(plan).map((i) => [i.workerIp, i.allocationIndex, i.env.ALLOCATION_INDEX]), [
      [ip(1), 0, "0"],
      [ip(2), 1, "1"],
      [ip(3), 2, "2"],
      [ip(5), 3, "3"],
    ]);
  });
});

describe("planHookRun: batches (SPEC §7.2)", () => {
  it("max_concurrent_upgrades 1, 2 and 0 (= 1) over 5 workers", () => {
    assert.deepEqual(batchesOf(planHookRun(input({ event: "cli" }, { upgrades: 1 }))), [[ip(1)], [ip(2)], [ip(3)], [ip(4)], [ip(5)]]);
    assert.deepEqual(batchesOf(planHookRun(input({ event: "cli" }, { upgrades: 2 }))), [[ip(1), ip(2)], [ip(3), ip(4)], [ip(5)]]);
    assert.deepEqual(batchesOf(planHookRun(input({ event: "cli" }, { upgrades: 0 }))), [[ip(1)], [ip(2)], [ip(3)], [ip(4)], [ip(5)]]);
    const plan = planHookRun(input({ event: "cli" }, { upgrades: 2 }));
    assert.equal(plan.steps[0]!.widthSource, "max_concurrent_upgrades");
    assert.deepEqual(
      invocations(plan).map((i) => [i.env.BATCH_ALLOCATIONS, i.env.BATCH_INDEX, i.env.BATCH_COUNT]),
      [
        ["10.0.0.1,10.0.0.2", "0", "3"],
        ["10.0.0.1,10.0.0.2", "0", "3"],
        ["10.0.0.3,10.0.0.4", "1", "3"],
        ["10.0.0.3,10.0.0.4", "1", "3"],
        ["10.0.0.5", "2", "3"],
      ],
    );
  });

  it("first-start hooks use max_concurrent_starts: 0 = one batch of all", () => {
    const all = [ip(1), ip(2), ip(3), ip(4), ip(5)];
    const starts = { event: "after_allocation_started" as const, widthSource: "max_concurrent_starts" as const, workers: { api: all }, phase: "new" as const };
    assert.deepEqual(batchesOf(planHookRun(input(starts, { starts: 0, upgrades: 1 }))), [all]);
    assert.deepEqual(batchesOf(planHookRun(input(starts, { starts: 2, upgrades: 1 }))), [[ip(1), ip(2)], [ip(3), ip(4)], [ip(5)]]);
    // the same event after an upgrade uses max_concurrent_upgrades
    assert.deepEqual(batchesOf(planHookRun(input({ ...starts, widthSource: undefined, phase: "update" }, { starts: 0, upgrades: 3 }))), [[ip(1), ip(2), ip(3)], [ip(4), ip(5)]]);
  });
});

describe("planHookRun: rollout order", () => {
  it("uses KV rollout_order when it is exactly the worker set", () => {
    const plan = planHookRun(input({ event: "cli" }, { upgrades: 2, rollout: "10.0.0.3,10.0.0.1,10.0.0.5,10.0.0.2,10.0.0.4" }));
    assert.equal(plan.steps[0]!.rolloutOrderSource, "kv");
    assert.deepEqual(batchesOf(plan), [[ip(3), ip(1)], [ip(5), ip(2)], [ip(4)]]);
    assert.ok(invocations(plan).every((i) => i.env.ROLLOUT_ORDER === "10.0.0.3,10.0.0.1,10.0.0.5,10.0.0.2,10.0.0.4" && i.env.ROLLOUT_ORDER_SOURCE === "kv"));
  });

  for (const [why, stale, reason] of [
    ["a worker missing", "10.0.0.3,10.0.0.1,10.0.0.5,10.0.0.2", "lists 4 of 5 workers, missing 10.0.0.4"],
    ["an extra worker", "10.0.0.3,10.0.0.1,10.0.0.5,10.0.0.2,10.0.0.4,10.0.0.6", "names workers not in this run's worker set: 10.0.0.6"],
    ["a repeated worker", "10.0.0.3,10.0.0.1,10.0.0.5,10.0.0.2,10.0.0.4,10.0.0.1", "repeats 10.0.0.1"],
    ["a repeat in place of a worker", "10.0.0.3,10.0.0.1,10.0.0.5,10.0.0.2,10.0.0.3", "lists 4 of 5 workers, missing 10.0.0.4; repeats 10.0.0.3"],
    ["a missing and a foreign worker", "10.0.0.9,10.0.0.1,10.0.0.5,10.0.0.2,10.0.0.4", "lists 4 of 5 workers, missing 10.0.0.3; names workers not in this run's worker set: 10.0.0.9"],
    ["an empty value", "", "is empty"],
  ] as const) {
    it(`falls back to catalog order for a stale list and says why (${why})`, () => {
      const plan = planHookRun(input({ event: "cli" }, { rollout: stale }));
      const step = plan.steps[0]!;
      assert.equal(step.rolloutOrderSource, "default");
      assert.deepEqual(step.rolloutOrder, [ip(1), ip(2), ip(3), ip(4), ip(5)]);
      assert.equal(invocations(plan)[0]!.env.ROLLOUT_ORDER_SOURCE, "default");
      assert.deepEqual(step.rolloutOrderIgnored, { stored: stale ? stale.split(",") : [], reason });
    });
  }
});

describe("planHookRun: why a stored rollout_order was ignored", () => {
  const ignored = (plan: HookRunPlan) => plan.steps[0]!.rolloutOrderIgnored;

  it("names the missing workers of a partial put_rollout_order (2 of 3)", () => {
    const plan = planHookRun(input({ event: "cli" }, { workers: 3, rollout: "10.0.0.2,10.0.0.1" }));
    assert.deepEqual(ignored(plan), { stored: [ip(2), ip(1)], reason: "lists 2 of 3 workers, missing 10.0.0.3" });
    assert.deepEqual(plan.steps[0]!.rolloutOrder, [ip(1), ip(2), ip(3)]);
  });

  it("is absent when no order is stored or the stored one is used", () => {
    const none = planHookRun(input({ event: "cli" }));
    assert.equal(none.steps[0]!.rolloutOrderSource, "default");
    assert.ok(!("rolloutOrderIgnored" in none.steps[0]!));
    const used = planHookRun(input({ event: "cli" }, { rollout: " 10.0.0.5, 10.0.0.4,10.0.0.3,10.0.0.2,10.0.0.1 " }));
    assert.equal(used.steps[0]!.rolloutOrderSource, "kv");
    assert.ok(!("rolloutOrderIgnored" in used.steps[0]!));
  });

  it("is absent for build's own value (active workers) on an event that includes a disabled worker", () => {
    // maand build stores the active workers in catalog order; nobody chose it, so no notice.
    const setup = { disabled: [2], removed: [4], rollout: "10.0.0.1,10.0.0.3,10.0.0.5" };
    const cli = planHookRun(input({ event: "cli" }, setup));
    assert.equal(cli.steps[0]!.rolloutOrderSource, "default");
    assert.equal(ignored(cli), undefined);
    const control = planHookRun(input({ event: "job_control", jobControl: "control", target: "restart" }, setup));
    assert.equal(control.steps[0]!.rolloutOrderSource, "kv");
    // The same workers in an order of the operator's are reported.
    const chosen = planHookRun(input({ event: "cli" }, { ...setup, rollout: "10.0.0.5,10.0.0.1,10.0.0.3" }));
    assert.deepEqual(ignored(chosen), { stored: [ip(5), ip(1), ip(3)], reason: "lists 3 of 4 workers, missing 10.0.0.2" });
  });

  it("is judged against the whole worker set, before an --allocations filter", () => {
    const plan = planHookRun(input({ event: "cli", allocations: [ip(1)] }, { workers: 3, rollout: "10.0.0.2,10.0.0.1" }));
    assert.deepEqual(plan.steps[0]!.rolloutOrder, [ip(1)]);
    assert.deepEqual(ignored(plan), { stored: [ip(2), ip(1)], reason: "lists 2 of 3 workers, missing 10.0.0.3" });
  });

  it("an empty stored list is exactly an empty worker set", () => {
    const plan = planHookRun(input({ event: "job_control", jobControl: "control", target: "stop" }, { workers: 2, disabled: [1, 2], rollout: "" }));
    assert.equal(plan.steps[0]!.rolloutOrderSource, "kv");
    assert.deepEqual(plan.steps[0]!.rolloutOrder, []);
    assert.equal(ignored(plan), undefined);
  });

  it("names at most five workers per reason", () => {
    const plan = planHookRun(input({ event: "cli" }, { workers: 12, rollout: "10.0.0.12,10.0.0.1,10.0.0.99" }));
    assert.equal(
      ignored(plan)!.reason,
      "lists 2 of 12 workers, missing 10.0.0.2, 10.0.0.3, 10.0.0.4, 10.0.0.5, 10.0.0.6 and 5 more; names workers not in this run's worker set: 10.0.0.99",
    );
  });
});

describe("planHookRun: environment", () => {
  it("ONE_SHOT=1 on exactly the first allocation of the first batch, even when index 0 runs last", () => {
    const plan = planHookRun(input({ event: "cli" }, { upgrades: 2, rollout: "10.0.0.4,10.0.0.3,10.0.0.5,10.0.0.2,10.0.0.1" }));
    const inv = invocations(plan);
    assert.deepEqual(inv.filter((i) => i.env.ONE_SHOT === "1").map((i) => i.workerIp), [ip(4)]);
    assert.equal(inv.filter((i) => i.oneShot).length, 1);
    const zero = inv.find((i) => i.env.ALLOCATION_INDEX === "0")!;
    assert.equal(zero.env.BATCH_INDEX, "2");
    assert.equal(zero.env.ONE_SHOT, "0");
  });

  it("sets every variable of the note with its exact format", () => {
    const plan = planHookRun(input({ event: "cli" }, { upgrades: 2, disabled: [2] }));
    assert.deepEqual(invocations(plan)[0]!.env, {
      ALLOCATION_ID: "alloc-1",
      ALLOCATION_IP: "10.0.0.1",
      ALLOCATION_INDEX: "0",
      JOB: "api",
      EVENT: "cli",
      COMMAND: "hook_x",
      HOOK: "hook_x",
      DISABLED: "0",
      CURRENT_VERSION: "1.1.0",
      NEW_VERSION: "1.2.0",
      HOOK_API_HOST: "127.0.0.1",
      JOB_COMMAND_API_HOST: "127.0.0.1",
      BUCKET_ROOT: "/b",
      BATCH_ALLOCATIONS: "10.0.0.1,10.0.0.2",
      BATCH_INDEX: "0",
      BATCH_COUNT: "3",
      DEPLOY_PHASE: "cli",
      ROLLOUT_ORDER: "10.0.0.1,10.0.0.2,10.0.0.3,10.0.0.4,10.0.0.5",
      ROLLOUT_ORDER_SOURCE: "default",
      ONE_SHOT: "1",
    });
    assert.equal(invocations(plan)[1]!.env.CURRENT_VERSION, "0.0.0");
    assert.equal(invocations(plan)[1]!.env.DISABLED, "1");
    // The API port and token are per process, never part of a (printable) plan.
    for (const name of RUNTIME_ENV) assert.ok(!(name in invocations(plan)[0]!.env));
  });

  it("job_control extras: NEW/UPDATED_ALLOCATIONS for deploy, TARGET for job control", () => {
    const deploy = planHookRun(
      input({ event: "job_control", jobControl: "deploy", phase: "update", newAllocations: { api: [ip(5)] }, updatedAllocations: { api: [ip(1), ip(2)] } }),
    );
    const env = invocations(deploy)[0]!.env;
    assert.equal(env[HOOK_ENV.newAllocations], "10.0.0.5");
    assert.equal(env[HOOK_ENV.updatedAllocations], "10.0.0.1,10.0.0.2");
    assert.equal(env[HOOK_ENV.deployPhase], "update");
    assert.ok(!(HOOK_ENV.target in env));
    const control = invocations(planHookRun(input({ event: "job_control", jobControl: "control", target: "reload" })))[0]!.env;
    assert.equal(control[HOOK_ENV.target], "reload");
    assert.equal(control[HOOK_ENV.deployPhase], "job_control");
    assert.ok(!(HOOK_ENV.newAllocations in control));
    assert.ok(!(HOOK_ENV.target in invocations(planHookRun(input({ event: "cli" })))[0]!.env));
  });

  it("carries the interpreter that will run each step, and refuses a plan whose interpreter or script is missing", () => {
    const plan = planHookRun(input({ event: "cli" }));
    assert.equal(plan.steps[0]!.interpreter, "/usr/bin/python3");
    const broken = input({ event: "cli" });
    broken.hooks[0]!.interpreter = { problems: ["python3 not found on PATH", "script _hooks/hook_x.py is not in the built job files; run 'maand build'"] };
    assert.throws(
      () => planHookRun(broken),
      (e: Error) => /no hook was started/.test(e.message) && /job api, hook_x: python3 not found on PATH/.test(e.message) && /run 'maand build'/.test(e.message),
    );
    // A step that runs nowhere (every allocation filtered out) needs no interpreter.
    const none = input({ event: "cli" }, { workers: 1, disabled: [] });
    none.hooks[0]!.interpreter = { problems: ["python3 not found on PATH"] };
    none.allocations.length = 0;
    assert.equal(planHookRun(none).steps[0]!.batches.length, 0);
  });

  it("is plain data: survives a JSON round trip unchanged", () => {
    const plan = planHookRun(input({ event: "cli" }, { upgrades: 2, disabled: [3] }));
    assert.deepEqual(JSON.parse(JSON.stringify(plan)), plan);
  });

  it("several targets: steps in the given order, one one-shot per step; unknown targets are errors", () => {
    const base = input({ event: "post_build", targets: [{ job: "db", hook: "hook_a" }, { job: "api", hook: "hook_x" }] }, { workers: 2 });
    base.jobs.push({ name: "db", version: "2.0.0", maxConcurrentUpgrades: 1, maxConcurrentStarts: 0, deploymentSeq: 0 });
    base.allocations.push({ allocId: "db-1", job: "db", workerIp: ip(9), disabled: false, removed: false, position: 8, currentVersion: "0.0.0" });
    base.hooks.push({ job: "db", hook: "hook_a", event: "post_build", script: "_hooks/hook_a.ts", timeoutSeconds: 5, interpreter: { path: "/usr/bin/bun" } });
    const plan = planHookRun(base);
    assert.deepEqual(plan.steps.map((s) => `${s.job}/${s.hook}`), ["db/hook_a", "api/hook_x"]);
    assert.deepEqual(invocations(plan).filter((i) => i.oneShot).map((i) => i.workerIp), [ip(9), ip(1)]);
    assert.throws(() => planHookRun({ ...base, request: { ...base.request, targets: [{ job: "nope", hook: "hook_a" }] } }), /unknown job nope/);
    assert.throws(() => planHookRun({ ...base, request: { ...base.request, targets: [{ job: "db", hook: "hook_x" }] } }), /job db has no hook hook_x registered for post_build/);
  });
});
