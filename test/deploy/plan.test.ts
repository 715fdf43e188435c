import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { isGatedBatch, planDeploy, planJob } from "../../server/deploy/plan.js";
import { SyncOnlyRefused } from "../../server/deploy/errors.js";
import { HookPreflightError } from "../../server/hooks/errors.js";
import type { AllocationInput, DeployPlanInput, JobInput } from "../../server/deploy/plan-types.js";

// planDeploy is pure: these tests build its input by hand and never open SSH or a catalog.

const H1 = "1".repeat(64);
const H2 = "2".repeat(64);

function alloc(i: number, o: Partial<AllocationInput> = {}): AllocationInput {
  return {
    alloc_id: `a${i}`,
    worker_ip: `10.0.0.${i}`,
    disabled: false,
    removed: false,
    position: i,
    current_hash: "",
    current_version: "0.0.0",
    running: false,
    synced_hash: "",
    applied_hash: "",
    applied_version: "",
    cleaned: false,
    new_hash: H1,
    ...o,
  };
}

/** An allocation deployed and running with H1 at 1.0.0. */
const deployed = (i: number, o: Partial<AllocationInput> = {}) =>
  alloc(i, { current_hash: H1, current_version: "1.0.0", running: true, synced_hash: H1, applied_hash: H1, applied_version: "1.0.0", ...o });

function job(name: string, allocations: AllocationInput[], o: Partial<JobInput> = {}): JobInput {
  return {
    job: name,
    version: "1.0.0",
    deployment_seq: 0,
    restart_policy: "always",
    max_concurrent_upgrades: 1,
    max_concurrent_starts: 0,
    removed_job: false,
    hooks: [],
    health_checks: [],
    rollout_order: undefined,
    allocations,
    ...o,
  };
}

const input = (jobs: JobInput[], request: DeployPlanInput["request"] = {}): DeployPlanInput => ({ request, bucket_id: "b", jobs });
const actions = (j: ReturnType<typeof planJob>) => j.allocations.map((a) => [a.worker_ip, a.action, a.reason]);
const batches = (j: ReturnType<typeof planJob>) => j.batches.map((b) => `${b.phase} ${b.batch_index}/${b.batch_count}: ${b.items.map((i) => `${i.worker_ip}:${i.target}`).join(",")}`);

describe("planDeploy: one action and reason per allocation, lifecycle batches, waves (pure)", () => {
  it("first deploy: every allocation starts (new), in batches of max_concurrent_starts in rollout order; 0 means one batch", () => {
    const j = planJob(job("api", [alloc(1), alloc(2), alloc(3)], { max_concurrent_starts: 2, rollout_order: "10.0.0.3,10.0.0.1,10.0.0.2" }), {});
    assert.deepEqual(actions(j), [
      ["10.0.0.1", "start", "new"],
      ["10.0.0.2", "start", "new"],
      ["10.0.0.3", "start", "new"],
    ]);
    assert.equal(j.rollout_order_source, "kv");
    assert.deepEqual(batches(j), ["new 0/2: 10.0.0.3:start,10.0.0.1:start", "new 1/2: 10.0.0.2:start"]);
    assert.ok(j.allocations.every((a) => a.sync && a.promote && a.target === "start"));
    const one = planJob(job("api", [alloc(1), alloc(2), alloc(3)]), {});
    assert.deepEqual(batches(one), ["new 0/1: 10.0.0.1:start,10.0.0.2:start,10.0.0.3:start"]);
  });

  it("nothing changed: every allocation skips (promoted) and the job needs no work at all", () => {
    const j = planJob(job("api", [deployed(1), deployed(2)]), {});
    assert.deepEqual(actions(j), [["10.0.0.1", "skip", "promoted"], ["10.0.0.2", "skip", "promoted"]]);
    assert.equal(j.needs_work, false);
    assert.deepEqual(j.batches, []);
  });

  it("content change per restart_policy: always/restart -> restart, reload -> reload, never -> sync; batches of max_concurrent_upgrades", () => {
    const changed = [deployed(1, { new_hash: H2 }), deployed(2, { new_hash: H2 }), deployed(3, { new_hash: H2 })];
    const expect = { always: "restart", restart: "restart", reload: "reload", never: "sync" } as const;
    for (const [policy, action] of Object.entries(expect)) {
      const j = planJob(job("api", changed, { restart_policy: policy as JobInput["restart_policy"], max_concurrent_upgrades: 2 }), {});
      assert.deepEqual(actions(j), changed.map((a) => [a.worker_ip, action, "content_changed"]), policy);
      assert.deepEqual(batches(j), action === "sync" ? [] : [`update 0/2: 10.0.0.1:${action},10.0.0.2:${action}`, `update 1/2: 10.0.0.3:${action}`], policy);
      assert.ok(j.allocations.every((a) => a.sync && a.promote));
    }
  });

  it("a version-only bump is version_changed (reload under restart_policy reload)", () => {
    const j = planJob(job("api", [deployed(1)], { version: "1.1.0", restart_policy: "reload" }), {});
    assert.deepEqual(actions(j), [["10.0.0.1", "reload", "version_changed"]]);
    assert.equal(j.allocations[0]!.new_version, "1.1.0");
  });

  it("disabled: stopped when running (after_allocation_stopped follows the stop batch), skipped otherwise; promoted either way, never synced", () => {
    const j = planJob(job("api", [deployed(1), deployed(2, { disabled: true, new_hash: H2 }), alloc(3, { disabled: true })]), {});
    assert.deepEqual(actions(j), [["10.0.0.1", "skip", "promoted"], ["10.0.0.2", "stop", "disabled"], ["10.0.0.3", "skip", "disabled"]]);
    assert.deepEqual(batches(j), ["stop 0/1: 10.0.0.2:stop"]);
    assert.deepEqual(j.allocations.map((a) => [a.sync, a.promote]), [[false, false], [false, true], [false, true]]);
    assert.deepEqual(j.rollout_order, ["10.0.0.1"], "the rollout order is the active workers");
  });

  it("re-enabled after a stop: start (stopped), not new", () => {
    const j = planJob(job("api", [deployed(1, { running: false })]), {});
    assert.deepEqual(actions(j), [["10.0.0.1", "start", "stopped"]]);
  });

  it("removed: stopped once if it ever reached the worker, skipped after it was taken off or when it never did", () => {
    const j = planJob(job("api", [deployed(1, { removed: true, new_hash: "" }), deployed(2, { removed: true, cleaned: true, running: false, new_hash: "" }), alloc(3, { removed: true, new_hash: "" })]), {});
    assert.deepEqual(actions(j), [["10.0.0.1", "stop", "removed"], ["10.0.0.2", "skip", "removed"], ["10.0.0.3", "skip", "removed"]]);
    assert.equal(j.allocations[0]!.promote, false);
  });

  it("applied but not promoted (a later batch failed last time): sync and promote, no second restart", () => {
    const j = planJob(job("api", [deployed(1, { applied_hash: H2, synced_hash: H2, new_hash: H2 }), deployed(2, { new_hash: H2 })]), {});
    assert.deepEqual(actions(j), [["10.0.0.1", "sync", "applied"], ["10.0.0.2", "restart", "content_changed"]]);
    assert.deepEqual(batches(j), ["update 0/1: 10.0.0.2:restart"]);
  });

  it("--force restarts every active allocation (new ones still start); --sync-only refuses starts and turns restarts into syncs", () => {
    const j = planJob(job("api", [deployed(1), alloc(2)]), { force: true });
    assert.deepEqual(actions(j), [["10.0.0.1", "restart", "forced"], ["10.0.0.2", "start", "new"]]);
    const s = planJob(job("api", [deployed(1, { new_hash: H2 }), deployed(2, { disabled: true })]), { sync_only: true });
    assert.deepEqual(actions(s), [["10.0.0.1", "sync", "content_changed"], ["10.0.0.2", "skip", "sync_only"]]);
    assert.deepEqual(s.batches, []);
    assert.throws(
      () => planDeploy(input([job("api", [deployed(1), alloc(2)])], { sync_only: true })),
      (e: unknown) => e instanceof SyncOnlyRefused && /10\.0\.0\.2 \(job api, new\)/.test(e.message),
    );
  });

  it("a job_control hook replaces starts and updates with NEW_ALLOCATIONS / UPDATED_ALLOCATIONS; stops stay Makefile batches", () => {
    const hooks = [{ hook: "hook_ctl", event: "job_control", script: "_hooks/hook_ctl.py", timeout_seconds: 60, interpreter: { path: "/usr/bin/python3" } }];
    const j = planJob(job("api", [deployed(1, { new_hash: H2 }), alloc(2), deployed(3, { disabled: true })], { hooks }), {});
    assert.equal(j.lifecycle, "job_control");
    assert.deepEqual(j.new_allocations, ["10.0.0.2"]);
    assert.deepEqual(j.updated_allocations, ["10.0.0.1"]);
    assert.deepEqual(batches(j), ["stop 0/1: 10.0.0.3:stop"]);
  });

  it("health gate: start and update batches of a job with checks are gated by them, stops never; null with health_gate false, no checks or no start/update batch", () => {
    const checks = ["tcp:8080", "http:8080/healthz"];
    const j = planJob(job("api", [alloc(1), deployed(2, { new_hash: H2 }), deployed(3, { disabled: true })], { health_checks: checks }), {});
    assert.deepEqual(j.health_gate, checks);
    assert.deepEqual(j.batches.map((b) => `${b.phase} ${isGatedBatch(j, b)}`), ["new true", "update true", "stop false"]);
    assert.equal(planJob(job("api", [alloc(1)], { health_checks: checks }), { health_gate: false }).health_gate, null);
    assert.equal(planJob(job("api", [alloc(1)]), {}).health_gate, null, "no checks");
    assert.equal(planJob(job("api", [deployed(1), deployed(2, { disabled: true })], { health_checks: checks }), {}).health_gate, null, "only a stop batch");
    const hooks = [{ hook: "hook_ctl", event: "job_control", script: "_hooks/hook_ctl.py", timeout_seconds: 60, interpreter: { path: "/usr/bin/python3" } }];
    const ctl = planJob(job("api", [alloc(1)], { health_checks: checks, hooks }), {});
    assert.deepEqual([ctl.batches.length, ctl.health_gate], [0, checks], "job_control lifecycle: no batch, the gate follows the hook");
    assert.equal(planJob(job("api", [deployed(1)], { health_checks: checks, hooks }), {}).health_gate, null, "job_control with nothing to start or update");
    assert.equal(planDeploy(input([job("api", [alloc(1)], { health_checks: checks })], { health_gate: false })).request.health_gate, false);
    assert.equal(planDeploy(input([job("api", [alloc(1)], { health_checks: checks })])).request.health_gate, true, "on by default");
  });

  it("waves by deployment_seq; only jobs with work name the workers to contact; a missing interpreter of such a job fails planning", () => {
    const p = planDeploy(
      input([
        job("db", [alloc(1)], { deployment_seq: 0 }),
        job("api", [deployed(1), deployed(2)], { deployment_seq: 1 }),
        job("web", [alloc(3)], { deployment_seq: 1 }),
      ]),
    );
    assert.deepEqual(p.waves.map((w) => [w.wave_index, w.deployment_seq, w.jobs.map((j) => j.job)]), [[0, 0, ["db"]], [1, 1, ["api", "web"]]]);
    assert.deepEqual(p.workers, ["10.0.0.1", "10.0.0.3"]);
    assert.deepEqual(p.counts, { start: 2, restart: 0, reload: 0, sync: 0, stop: 0, skip: 2 });
    const broken = [{ hook: "hook_x", event: "pre_deploy", script: "_hooks/hook_x.py", timeout_seconds: 60, interpreter: { problems: ["python3 not found on PATH"] } }];
    assert.throws(() => planDeploy(input([job("db", [alloc(1)], { hooks: broken })])), (e: unknown) => e instanceof HookPreflightError && /hook_x \(pre_deploy\): python3 not found/.test(e.message));
    // ...but not when that job has nothing to do.
    assert.doesNotThrow(() => planDeploy(input([job("db", [deployed(1)], { hooks: broken })])));
  });

  it("is plain data: a JSON round trip gives the same plan, keys are snake_case", () => {
    const p = planDeploy(input([job("api", [alloc(1), deployed(2, { new_hash: H2 })], { max_concurrent_starts: 1 })]));
    assert.deepEqual(JSON.parse(JSON.stringify(p)), p);
    const keys = new Set<string>();
    const walk = (v: unknown) => {
      if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v === "object") for (const [k, x] of Object.entries(v)) (keys.add(k), walk(x));
    };
    walk(p);
    assert.deepEqual([...keys].filter((k) => k !== k.toLowerCase()), []);
  });
});
