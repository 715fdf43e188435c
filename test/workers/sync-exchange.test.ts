import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { WorkerStepFailed } from "../../server/workers/errors.js";
import type { WorkerConnection } from "../../server/workers/connection.js";
import type { WorkerPool } from "../../server/workers/pool.js";
import { FenceWatcher } from "../../server/workers/sync-exchange.js";
import { syncWorker, type SyncRequest, type SyncResult } from "../../server/workers/sync.js";
import { file, poolFor, rejection, sealOf } from "./fixture.js";
import { startWorkers, testWorkersUnavailable, type WorkerSet } from "./workers.js";

const skip = testWorkersUnavailable();
const BUCKET = "6f1c2d3e-0000-4000-8000-00000000e0c1";
const LAYOUT = { worker: { worker_ip: "x" }, updateSeq: 1, jobs: { web: { current_version: null, new_version: "1" } } };

describe("sync exchange: the fence between the state listing and apply's reply", () => {
  it("finds the fence wherever the chunks split it, and hands over the listing once", () => {
    const fence = "maand-state-end-0123456789abcdef";
    const output = `listing with maand-state-end- lookalikes\0${fence}{"ok":true}`;
    for (let cut = 1; cut < output.length; cut += 3) {
      const listings: string[] = [];
      const w = new FenceWatcher(fence, (l) => listings.push(l.toString()));
      const bytes = Buffer.from(output);
      for (let at = 0; at < bytes.length; at += cut) w.push(bytes.subarray(at, at + cut));
      assert.deepEqual(listings, ["listing with maand-state-end- lookalikes\0"], `chunks of ${cut}`);
      assert.equal(w.after(bytes).toString(), '{"ok":true}');
    }
  });

  it("without the fence there is no listing and nothing after it", () => {
    const w = new FenceWatcher("maand-state-end-x", () => assert.fail("no listing expected"));
    w.push(Buffer.from("maand-state-v1\0J\0"));
    assert.equal(w.seen, false);
    assert.equal(w.after(Buffer.from("maand-state-v1\0J\0")).length, 0);
  });
});

describe("sync exchange on real workers", { skip }, () => {
  let set: WorkerSet;
  let pool: WorkerPool;
  before(async () => {
    set = await startWorkers(3, { worker: (i) => ({ missingTools: i === 1 ? ["python3"] : i === 2 ? ["sha256sum"] : [] }) });
    pool = poolFor(set);
  });
  after(async () => {
    pool?.close();
    await set?.stop();
  });

  /** syncWorker, counting the commands (SSH sessions) it runs on the worker's connection. */
  async function counted(req: SyncRequest): Promise<{ result: SyncResult; sessions: number }> {
    let sessions = 0;
    const result = await pool.session(req.host, async (conn: WorkerConnection) => {
      const exec = conn.exec.bind(conn);
      conn.exec = (command, o) => {
        sessions++;
        return exec(command, o);
      };
      try {
        return await syncWorker(pool, req);
      } finally {
        conn.exec = exec;
      }
    });
    return { result, sessions };
  }

  it("one SSH session per sync: listing, files and layout together; a no-change sync too", async () => {
    const host = set.workers[0].ip;
    const files = [file("Makefile", "start:\n\t@true\n"), file("bin.sh", "#!/bin/sh\n", 0o755)];
    const first = await counted({ host, bucketId: BUCKET, jobs: [{ job: "web", files }], layout: LAYOUT });
    assert.equal(first.sessions, 1);
    assert.equal(first.result.roundTrips, 2);
    assert.deepEqual(first.result.jobs[0].sent.sort(), ["Makefile", "bin.sh"]);
    assert.deepEqual(first.result.layout.sort(), ["bin/runner.py", "jobs.json", "worker.json"]);
    const again = await counted({ host, bucketId: BUCKET, jobs: [{ job: "web", files, seal: sealOf(first.result, files) }], layout: LAYOUT });
    assert.deepEqual([again.sessions, again.result.roundTrips, again.result.wireBytes, again.result.jobs[0].listing], [1, 1, 0, "sealed"]);
    assert.equal(again.result.previousUpdateSeq, 1);
    // Without the seal (a maand that lost its record) the worker lists in full, then is sealed in the same session.
    const unsealed = await counted({ host, bucketId: BUCKET, jobs: [{ job: "web", files }], layout: LAYOUT });
    assert.deepEqual([unsealed.sessions, unsealed.result.roundTrips, unsealed.result.wireBytes, unsealed.result.jobs[0].listing], [1, 2, 0, "full"]);
    const resealed = await counted({ host, bucketId: BUCKET, jobs: [{ job: "web", files, seal: sealOf(unsealed.result, files) }], layout: LAYOUT });
    assert.deepEqual([resealed.result.roundTrips, resealed.result.jobs[0].listing], [1, "sealed"]);
  });

  it("starts python3 only when something is sent: a no-op sync works on a worker without it, a real one says what is missing", async () => {
    const host = set.workers[1].ip;
    // Listed in full and sealed (the seal is written by the shell): no python3 either way.
    const noop = await syncWorker(pool, { host, bucketId: BUCKET, jobs: [{ job: "empty", files: [] }] });
    assert.deepEqual([noop.roundTrips, noop.wireBytes, noop.jobs[0].listing], [2, 0, "full"]);
    const sealed = await syncWorker(pool, { host, bucketId: BUCKET, jobs: [{ job: "empty", files: [], seal: sealOf(noop, []) }] });
    assert.deepEqual([sealed.roundTrips, sealed.wireBytes, sealed.jobs[0].listing], [1, 0, "sealed"]);
    const err = await rejection(syncWorker(pool, { host, bucketId: BUCKET, jobs: [{ job: "web", files: [file("Makefile", "x\n")] }] }));
    assert.ok(err instanceof WorkerStepFailed, String(err));
    assert.match(err.message, /applying the sync.*is python3 installed on the worker\?/s);
  });

  it("a worker without sha256sum is never sealed: every sync lists it in full, and works", async () => {
    const host = set.workers[2].ip;
    const files = [file("Makefile", "start:\n\t@true\n")];
    const first = await syncWorker(pool, { host, bucketId: BUCKET, jobs: [{ job: "web", files }] });
    assert.deepEqual(first.jobs[0].sent, ["Makefile"]);
    for (let i = 0; i < 2; i++) {
      const again = await syncWorker(pool, { host, bucketId: BUCKET, jobs: [{ job: "web", files, seal: sealOf(first, files) }] });
      assert.deepEqual([again.jobs[0].listing, again.jobs[0].sent, again.wireBytes], ["full", [], 0]);
    }
  });
});
