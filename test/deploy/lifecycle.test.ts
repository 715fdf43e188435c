import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { testWorkersUnavailable } from "../workers/workers.js";
import { deployBucket, recordingJob, type DeployBucket } from "./fixture.js";
import type { WorkspaceFixture } from "../helpers/bucket.js";

const skip = testWorkersUnavailable();

/** What the recorder lines say, compactly: "target start 1" or "after_allocation_started hook_py 1 new 0/2 [1,2]". */
function summary(b: DeployBucket, rows: Array<Record<string, string>>): string[] {
  const n = (ip: string) => String(b.ips.indexOf(ip) + 1);
  return rows.map((r) =>
    r.kind === "target"
      ? `${r.job} target ${r.target} ${n(r.ip!)}`
      : `${r.JOB} ${r.EVENT} ${r.HOOK} ${n(r.ALLOCATION_IP!)} ${r.DEPLOY_PHASE} ${r.BATCH_INDEX}/${r.BATCH_COUNT} [${(r.BATCH_ALLOCATIONS ?? "").split(",").map(n).join(",")}]`,
  );
}

/** Sorts runs of lines that ran in parallel (same batch), so the order of batches is what is compared. */
const sortedWithin = (lines: string[], groups: number[]): string[] => {
  const out: string[] = [];
  let at = 0;
  for (const g of groups) {
    out.push(...lines.slice(at, at + g).sort());
    at += g;
  }
  return [...out, ...lines.slice(at)];
};

describe("deploy to real sshd workers: lifecycle, hooks, policies, disable and removal", { skip }, () => {
  let b: DeployBucket;
  let state: { policy: string; version: string; conf: string; disabled?: unknown; workers: number; extra: boolean; aux: boolean; ctlConf: string };
  const workspace = (): WorkspaceFixture => ({
    workers: b.ips.slice(0, state.workers).map((host) => ({ host, labels: ["worker", "ctl"] })),
    disabled: state.disabled,
    jobs: {
      api: recordingJob(b.recordFile, {
        manifest: { version: state.version, max_concurrent_starts: 2, max_concurrent_upgrades: 1, restart_policy: state.policy },
        py: ["pre_deploy", "after_allocation_started", "post_deploy", "after_allocation_stopped"],
        ts: ["after_allocation_started"],
        files: { "app.conf": state.conf },
      }),
      ...(state.extra
        ? {
            ctl: {
              ...recordingJob(b.recordFile, { manifest: { selectors: ["ctl"] }, py: ["job_control"], files: { "app.conf": state.ctlConf } }),
            },
          }
        : {}),
      ...(state.aux ? { aux: recordingJob(b.recordFile, { manifest: { selectors: ["ctl"] }, py: ["after_allocation_stopped"] }) } : {}),
    },
  });
  const redeploy = (...args: string[]) => {
    b.build(workspace());
    b.clearRecords();
    const r = b.deploy(...args);
    assert.equal(r.status, 0, `${r.stderr}\n${r.stdout}`);
    return r;
  };

  before(async () => {
    b = await deployBucket(3);
    state = { policy: "always", version: "1.0.0", conf: "port = 1\n", workers: 3, extra: false, aux: false, ctlConf: "a\n" };
  });
  after(async () => {
    await b?.cleanup();
  });

  const states = () => (JSON.parse(b.maand("cat", "deployments", "--jobs", "api", "--json").stdout) as Array<{ state: string }>).map((x) => x.state);

  it("first deploy: starts in batches of max_concurrent_starts, each followed by after_allocation_started (Python and Bun, DEPLOY_PHASE=new); hooks record the order", () => {
    b.build(workspace());
    assert.deepEqual(states(), ["new", "new", "new"], "cat deployments before any deploy");
    const r = redeploy();
    assert.deepEqual(r.plan!.waves[0]!.jobs[0]!.allocations.map((a) => [a.action, a.reason]), [["start", "new"], ["start", "new"], ["start", "new"]]);
    const lines = summary(b, b.records());
    assert.deepEqual(sortedWithin(lines, [1, 1, 1, 2, 4, 1, 2]), [
      // pre_deploy: max_concurrent_upgrades 1 -> one allocation per batch
      "api pre_deploy hook_py 1 pre_deploy 0/3 [1]",
      "api pre_deploy hook_py 2 pre_deploy 1/3 [2]",
      "api pre_deploy hook_py 3 pre_deploy 2/3 [3]",
      "api target start 1",
      "api target start 2",
      "api after_allocation_started hook_py 1 new 0/2 [1,2]",
      "api after_allocation_started hook_py 2 new 0/2 [1,2]",
      "api after_allocation_started hook_ts 1 new 0/2 [1,2]",
      "api after_allocation_started hook_ts 2 new 0/2 [1,2]",
      "api target start 3",
      "api after_allocation_started hook_py 3 new 1/2 [3]",
      "api after_allocation_started hook_ts 3 new 1/2 [3]",
      "api post_deploy hook_py 1 post_deploy 0/3 [1]",
      "api post_deploy hook_py 2 post_deploy 1/3 [2]",
      "api post_deploy hook_py 3 post_deploy 2/3 [3]",
    ]);
    const started = b.records().filter((x) => x.EVENT === "after_allocation_started" && x.HOOK === "hook_py");
    assert.deepEqual(started.map((x) => x.ONE_SHOT).sort(), ["0", "0", "1"], "is_one_shot() holds once over the whole phase");
    assert.ok(b.records().filter((x) => x.kind === "target").every((x) => x.current === "0.0.0" && x.new === "1.0.0"));
    for (let i = 0; i < 3; i++) {
      assert.equal(readFileSync(b.onWorker(i, "jobs/api/app.conf"), "utf8"), "port = 1\n");
      assert.ok(!existsSync(b.onWorker(i, "jobs/api/_hooks")), "hooks stay on the CLI host");
      assert.equal(JSON.parse(readFileSync(b.onWorker(i, "jobs.json"), "utf8")).api.current_version, "1.0.0", "jobs.json refreshed after the promote");
      assert.equal(JSON.parse(readFileSync(b.onWorker(i, "worker.json"), "utf8")).update_seq, r.result!.update_seq);
    }
    const rows = JSON.parse(b.maand("cat", "deployments", "--json").stdout) as Array<{ state: string; running: number; current_version: string; last_result: string }>;
    assert.deepEqual(rows.map((x) => [x.state, x.running, x.current_version, x.last_result]), Array(3).fill(["promoted", 1, "1.0.0", "ok"]));
  });

  it("a redeploy with nothing changed skips every allocation without contacting a worker", () => {
    const logins = b.set.workers.map((_, i) => b.set.acceptedLogins(i));
    const r = redeploy();
    assert.deepEqual(r.plan!.counts, { start: 0, restart: 0, reload: 0, sync: 0, stop: 0, skip: 3 });
    assert.deepEqual(r.result!.jobs.map((j) => j.status), ["skipped"]);
    assert.deepEqual(b.records(), []);
    assert.deepEqual(b.set.workers.map((_, i) => b.set.acceptedLogins(i)), logins, "no SSH connection was made");
  });

  it("a file change restarts (always), reloads (reload) or only syncs (never), in batches of max_concurrent_upgrades followed by after_allocation_started (update)", () => {
    for (const [policy, target] of [["always", "restart"], ["reload", "reload"], ["never", null]] as const) {
      state.policy = policy;
      state.conf = `port = ${policy}\n`;
      const r = redeploy();
      assert.deepEqual(r.plan!.waves[0]!.jobs[0]!.allocations.map((a) => [a.action, a.reason]), Array(3).fill([target ?? "sync", "content_changed"]), policy);
      const lines = summary(b, b.records().filter((x) => x.kind === "target" || x.EVENT === "after_allocation_started"));
      assert.deepEqual(
        lines,
        target
          ? [1, 2, 3].flatMap((n) => [`api target ${target} ${n}`, `api after_allocation_started hook_py ${n} update ${n - 1}/3 [${n}]`, `api after_allocation_started hook_ts ${n} update ${n - 1}/3 [${n}]`])
          : [],
        policy,
      );
      for (let i = 0; i < 3; i++) assert.equal(readFileSync(b.onWorker(i, "jobs/api/app.conf"), "utf8"), `port = ${policy}\n`, policy);
      // The workers were sealed by the last sync: each answered in a few bytes instead of its listing,
      // and each holds the token maand recorded, with one file list for the three (the old one dropped).
      const syncs = r.result!.steps.filter((x) => x.step === "sync");
      assert.deepEqual(syncs.map((x) => x.tail.at(-1)?.replace(/^sent \d+ .*; /, "")), Array(3).fill("worker listing sealed"), policy);
      const seals = b.db((db) => db.prepare("SELECT worker_ip, sync_seal FROM deployments ORDER BY worker_ip").all() as Array<{ worker_ip: string; sync_seal: string }>);
      for (const row of seals) assert.equal(readFileSync(b.onWorker(b.ips.indexOf(row.worker_ip), "manifests/api.seal"), "utf8").split(" ")[0], row.sync_seal);
      assert.equal(b.db((db) => (db.prepare("SELECT count(*) AS n FROM sync_seal_files").get() as { n: number }).n), 1);
    }
  });

  it("a workspace edited since the build is named once, while the workers are being reached, and the deploy ships the build", () => {
    const conf = state.conf;
    state.conf = "port = built\n";
    try {
      b.build(workspace());
      writeFileSync(join(b.root, "workspace", "jobs", "api", "app.conf"), "port = edited\n");
      const r = b.deploy();
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stderr.match(/changed since the last 'maand build'/g)?.length, 1, r.stderr);
      assert.match(r.stderr, /^warning: the workspace changed since the last 'maand build' \(changed jobs\/api\/app\.conf\): maand runs the built snapshot/m);
      assert.equal(readFileSync(b.onWorker(0, "jobs/api/app.conf"), "utf8"), "port = built\n");
    } finally {
      // The later tests start from the workers as they were.
      state.conf = conf;
      redeploy();
    }
  });

  it("a version-only bump is version_changed: reload under restart_policy reload, with CURRENT_VERSION and NEW_VERSION", () => {
    state.policy = "reload";
    state.version = "1.1.0";
    b.build(workspace());
    assert.deepEqual(states(), ["changed", "changed", "changed"], "built, not deployed yet");
    const r = redeploy();
    assert.deepEqual(r.plan!.waves[0]!.jobs[0]!.allocations.map((a) => [a.action, a.reason]), Array(3).fill(["reload", "version_changed"]));
    const targets = b.records().filter((x) => x.kind === "target");
    assert.deepEqual(targets.map((x) => [x.target, x.current, x.new]), Array(3).fill(["reload", "1.0.0", "1.1.0"]));
    assert.equal(JSON.parse(readFileSync(b.onWorker(0, "jobs.json"), "utf8")).api.current_version, "1.1.0");
  });

  it("with a job_control hook, the hook replaces the Makefile lifecycle and gets NEW_ALLOCATIONS, then UPDATED_ALLOCATIONS", () => {
    state.extra = true;
    state.aux = true;
    let r = redeploy("--jobs", "ctl,aux");
    const ctl = r.plan!.waves[0]!.jobs.find((j) => j.job === "ctl")!;
    assert.equal(ctl.lifecycle, "job_control");
    let calls = b.records().filter((x) => x.EVENT === "job_control");
    assert.equal(calls.length, 3, "job_control runs on every allocated worker");
    assert.ok(calls.every((x) => x.NEW_ALLOCATIONS === b.ips.join(",") && x.UPDATED_ALLOCATIONS === "" && x.DEPLOY_PHASE === "job_control"), JSON.stringify(calls));
    assert.deepEqual(b.records().filter((x) => x.kind === "target" && x.job === "ctl"), [], "no Makefile target of ctl ran");
    state.ctlConf = "b\n";
    r = redeploy("--jobs", "ctl");
    calls = b.records().filter((x) => x.EVENT === "job_control");
    assert.ok(calls.length === 3 && calls.every((x) => x.NEW_ALLOCATIONS === "" && x.UPDATED_ALLOCATIONS === b.ips.join(",")), JSON.stringify(calls));
    assert.equal(r.result!.jobs[0]!.status, "ok");
  });

  it("a disabled allocation is stopped, after_allocation_stopped runs for it (DEPLOY_PHASE=stop), and later deploys leave it alone", () => {
    state.disabled = { jobs: { api: { allocations: [b.ips[1]] } } };
    let r = redeploy("--jobs", "api");
    assert.deepEqual(r.plan!.waves[0]!.jobs[0]!.allocations.map((a) => [a.action, a.reason]), [["skip", "promoted"], ["stop", "disabled"], ["skip", "promoted"]]);
    assert.deepEqual(summary(b, b.records()).filter((l) => !l.includes("pre_deploy") && !l.includes("post_deploy")), ["api target stop 2", "api after_allocation_stopped hook_py 2 stop 0/1 [2]"]);
    state.conf = "port = 9\n";
    state.policy = "always";
    r = redeploy("--jobs", "api");
    assert.deepEqual(summary(b, b.records().filter((x) => x.kind === "target")), ["api target restart 1", "api target restart 3"]);
    assert.equal(readFileSync(b.onWorker(1, "jobs/api/app.conf"), "utf8"), "port = never\n", "a disabled allocation is not synced");
    const rows = JSON.parse(b.maand("cat", "deployments", "--jobs", "api", "--json").stdout) as Array<{ worker_ip: string; state: string; running: number }>;
    assert.deepEqual(rows.map((x) => [x.state, x.running]), [["promoted", 1], ["disabled", 0], ["promoted", 1]]);
  });

  it("a worker that leaves the workspace is stopped and its job files go, data/ stays", () => {
    state.workers = 2;
    const r = redeploy();
    const api = r.plan!.waves[0]!.jobs.find((j) => j.job === "api")!;
    assert.deepEqual(api.allocations.map((a) => [a.worker_ip, a.action, a.reason]).at(-1), [b.ips[2], "stop", "removed"]);
    const stopped = summary(b, b.records()).filter((l) => l.includes(" 3 ") || l.endsWith(" 3"));
    assert.ok(stopped.includes("api target stop 3") && stopped.includes("api after_allocation_stopped hook_py 3 stop 0/1 [3]"), stopped.join("\n"));
    assert.deepEqual(readdirSync(b.onWorker(2, "jobs/api")), ["data"], "only data/ is left");
    assert.ok(existsSync(b.onWorker(2, "jobs/api/data/start.count")));
    assert.equal(states().at(-1), "removed");
    // Its last job gone, the worker keeps no maand file: only the jobs' kept data/.
    for (const f of ["worker.json", "jobs.json", "bin", "manifests"]) assert.ok(!existsSync(b.onWorker(2, f)), `${f} is gone from the retired worker`);
    assert.ok(existsSync(b.onWorker(0, "worker.json")) && existsSync(b.onWorker(0, "bin/runner.py")), "workers still in the workspace keep theirs");
    // Done once: the next deploy has nothing to stop.
    assert.equal(redeploy().plan!.counts.stop, 0);
  });

  it("a job that leaves the workspace is stopped from its last deployed snapshot (its after_allocation_stopped hook too), data/ kept", () => {
    state.aux = false;
    const r = redeploy();
    const aux = r.plan!.waves.flatMap((w) => w.jobs).find((j) => j.job === "aux")!;
    assert.equal(aux.removed_job, true);
    const lines = summary(b, b.records().filter((x) => x.job === "aux" || x.JOB === "aux"));
    assert.deepEqual(lines.filter((l) => l.includes("target")).sort(), ["aux target stop 1", "aux target stop 2"]);
    assert.deepEqual(lines.filter((l) => l.includes("after_allocation_stopped")).sort(), ["aux after_allocation_stopped hook_py 1 stop 0/2 [1]", "aux after_allocation_stopped hook_py 2 stop 1/2 [2]"]);
    for (const i of [0, 1]) {
      assert.deepEqual(readdirSync(b.onWorker(i, "jobs/aux")), ["data"]);
      assert.equal(JSON.parse(readFileSync(b.onWorker(i, "jobs.json"), "utf8")).aux, undefined, "not in jobs.json any more");
    }
    // aux's worker 3 allocation was removed (with its worker) before it ran anything there twice: taken off already.
    assert.deepEqual(b.records().filter((x) => x.kind === "target" && x.ip === b.ips[2]), []);
  });
});
