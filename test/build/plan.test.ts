import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { planBuild, isNoOp, type BuildPlan } from "../../server/build/plan.js";
import { uuidV5, allocationId } from "../../server/build/ids.js";
import type { BuildState } from "../../server/build/snapshot.js";
import type { KvRow } from "../../server/store/kv.js";
import type { JobSpec, Workspace, WorkerSpec } from "../../server/workspace/model.js";

const NOW = Date.UTC(2030, 0, 1);

function worker(host: string, position: number, labels: string[] = []): WorkerSpec {
  return { host, position, labels: [...labels, "worker"], hostname: "", memoryMb: 0, cpuMhz: 0, tags: {} };
}

function job(name: string, files: Record<string, string> = { Makefile: "start:\n" }, over: Partial<JobSpec> = {}): JobSpec {
  return {
    name,
    version: "1.0.0",
    selectors: ["worker"],
    maxConcurrentUpgrades: 1,
    maxConcurrentStarts: 0,
    restartPolicy: "always",
    hooks: [],
    certs: [],
    deploymentSeq: 0,
    manifest: {},
    files: Object.entries(files).map(([path, text]) => ({
      path,
      mode: 0o644,
      hash: createHash("sha256").update(text).digest("hex"),
      content: Buffer.from(text),
    })),
    ...over,
  };
}

function workspace(workers: WorkerSpec[], jobs: JobSpec[], over: Partial<Workspace> = {}): Workspace {
  return { workers, jobs, disabled: { jobs: {}, workers: [] }, bucketVars: {}, bucketJobVars: {}, jobVars: {}, warnings: [], ...over };
}

const EMPTY: BuildState = {
  catalog: { bucketId: "b-1", workers: [], jobs: [], hooks: [], jobFiles: [], allocations: [], hashIds: [] },
  kv: [],
};

/** The state a database would hold after applying `plan` on top of `state` (pure, for idempotence checks). */
function applyInMemory(state: BuildState, plan: BuildPlan): BuildState {
  const c = plan.catalog;
  const upsert = <T>(rows: T[], next: T[], key: (r: T) => string, drop: Set<string>) => {
    const m = new Map(rows.filter((r) => !drop.has(key(r))).map((r) => [key(r), r]));
    for (const r of next) m.set(key(r), r);
    return [...m.values()];
  };
  const kv = new Map(state.kv.map((r) => [`${r.namespace}\0${r.key}`, r]));
  for (const w of plan.kv) {
    kv.set(`${w.namespace}\0${w.key}`, { namespace: w.namespace, key: w.key, version: w.version, value: w.value, ttl: w.ttl, created_at: plan.now, deleted: w.deleted ? 1 : 0, encrypted: 0 } satisfies KvRow);
  }
  return {
    catalog: {
      bucketId: state.catalog.bucketId,
      workers: upsert(state.catalog.workers, c.upsertWorkers, (w) => w.worker_id, new Set(c.deleteWorkers)),
      jobs: upsert(state.catalog.jobs, c.upsertJobs, (j) => j.name, new Set(c.deleteJobs)),
      hooks: upsert(state.catalog.hooks, c.upsertHooks, (h) => `${h.job}|${h.hook}|${h.event}`, new Set(c.deleteHooks.map((h) => `${h.job}|${h.hook}|${h.event}`))),
      jobFiles: upsert(state.catalog.jobFiles, c.upsertJobFiles.map(({ content: _c, ...f }) => f), (f) => `${f.job}|${f.path}`, new Set(c.deleteJobFiles.map((f) => `${f.job}|${f.path}`))),
      allocations: upsert(state.catalog.allocations, c.upsertAllocations, (a) => a.alloc_id, new Set()),
      hashIds: [...state.catalog.hashIds, ...c.insertHashes],
    },
    kv: [...kv.values()],
  };
}

const plan = (ws: Workspace, state: BuildState = EMPTY, now = NOW) => planBuild({ workspace: ws, state, now, caCertPem: "CA", certs: new Map() });
const put = (p: BuildPlan, ns: string, key: string) => p.kv.find((w) => w.namespace === ns && w.key === key);

describe("planBuild (pure)", () => {
  it("IDs are RFC 4122 v5 UUIDs, stable across calls", () => {
    assert.equal(uuidV5("6ba7b810-9dad-11d1-80b4-00c04fd430c8", "www.example.com"), "2ed6657d-e927-568b-95e1-2665a8aea6a2");
    assert.equal(allocationId("api", "10.0.0.1"), allocationId("api", "10.0.0.1"));
    assert.notEqual(allocationId("api", "10.0.0.1"), allocationId("api", "10.0.0.2"));
  });

  it("plans rows and KV versions from an empty state; planning the result again is a no-op", () => {
    const ws = workspace([worker("10.0.0.1", 0), worker("10.0.0.2", 1), worker("10.0.0.3", 2)], [job("a"), job("b")]);
    const p1 = plan(ws);
    assert.equal(p1.catalog.upsertAllocations.length, 6);
    assert.equal(p1.catalog.insertHashes.length, 6);
    assert.ok(p1.kv.every((w) => w.version === 1 && !w.deleted));
    const sorted = [...p1.kv].sort((x, y) => (x.namespace + "\0" + x.key < y.namespace + "\0" + y.key ? -1 : 1));
    assert.deepEqual(p1.kv, sorted, "writes come sorted by primary key");
    assert.equal(put(p1, "maand/job/a/worker/10.0.0.2", "peer_workers")!.value, "10.0.0.1,10.0.0.3");
    assert.equal(put(p1, "maand/job/a/worker/10.0.0.1", "peer_workers")!.value, "10.0.0.2,10.0.0.3");
    assert.equal(put(p1, "maand/job/a/worker/10.0.0.3", "peer_workers")!.value, "10.0.0.1,10.0.0.2");
    const p2 = plan(ws, applyInMemory(EMPTY, p1), NOW + 1000);
    assert.ok(isNoOp(p2), JSON.stringify(p2.summary));
  });

  it("only changed job files are planned (content is not rewritten on every build)", () => {
    const ws1 = workspace([worker("10.0.0.1", 0)], [job("a", { Makefile: "start:\n", "x.conf": "1", "y.conf": "2" })]);
    const s1 = applyInMemory(EMPTY, plan(ws1));
    const ws2 = workspace([worker("10.0.0.1", 0)], [job("a", { Makefile: "start:\n", "x.conf": "changed", "z.conf": "3" })]);
    const p = plan(ws2, s1);
    assert.deepEqual(p.catalog.upsertJobFiles.map((f) => f.path), ["x.conf", "z.conf"]);
    assert.deepEqual(p.catalog.deleteJobFiles, [{ job: "a", path: "y.conf" }]);
  });

  it("versions continue from the snapshot; a tombstone is the next version", () => {
    const ws = workspace([worker("10.0.0.1", 0), worker("10.0.0.2", 1)], [job("a")]);
    const s1 = applyInMemory(EMPTY, plan(ws));
    const p = plan(workspace([worker("10.0.0.1", 0)], [job("a")]), s1);
    const tomb = put(p, "maand/worker/10.0.0.2", "worker_ip")!;
    assert.deepEqual([tomb.deleted, tomb.version], [true, 2]);
    assert.equal(put(p, "maand/job/a", "workers")!.version, 2);
    assert.equal(p.kv.filter((w) => w.namespace === "maand/job/a/worker/10.0.0.2").length, 0, "removed allocation namespace untouched");
    const removed = p.catalog.upsertAllocations.find((a) => a.worker_ip === "10.0.0.2")!;
    assert.deepEqual([removed.removed, removed.removed_at], [1, NOW]);
  });

  it("a job needs every selector; disabled worker disables each of its allocations", () => {
    const ws = workspace(
      [worker("10.0.0.1", 0, ["x", "y"]), worker("10.0.0.2", 1, ["x"]), worker("10.0.0.3", 2, ["x", "y"])],
      [job("a", undefined, { selectors: ["x", "y"] })],
      { disabled: { jobs: {}, workers: ["10.0.0.3"] } },
    );
    const p = plan(ws);
    assert.deepEqual(p.catalog.upsertAllocations.map((a) => [a.worker_ip, a.disabled]), [["10.0.0.1", 0], ["10.0.0.3", 1]]);
    assert.equal(put(p, "maand/job/a", "workers")!.value, "10.0.0.1");
    assert.deepEqual(p.summary.totals, { workers: 3, jobs: 1, active: 1, disabled: 1, removed: 0 });
  });
});
