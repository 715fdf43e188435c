import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { API_ERRORS } from "../../server/api/errors.js";
import { ROUTES } from "../../server/api/routes.js";
import type { Invocation } from "../../server/api/registry.js";
import { waitFor } from "../helpers/wait.js";
import { call, semaphoreStatus, startFixture, type Fixture } from "./fixture.js";

describe("semaphores (over HTTP)", () => {
  let f: Fixture;
  let seq = 0;
  before(async () => {
    f = await startFixture();
  });
  after(() => f.close());

  /** A fresh running invocation of job api (event cli unless given). */
  const client = (event = "cli") => {
    const inv: Invocation = f.invoke({ allocId: `alloc-${++seq}`, event, command: "hook_migrate" });
    const headers = f.headersFor(inv);
    return {
      inv,
      acquire: (body: Record<string, unknown>, signal?: AbortSignal) =>
        call(f.api.url, "POST", ROUTES.acquireSemaphore.path, { body, headers, signal }),
      release: (name: string) => call(f.api.url, "POST", ROUTES.releaseSemaphore.path, { body: { name }, headers }),
      status: (name: string) => semaphoreStatus(f.api.url, headers, name),
      done: () => f.registry.unregister(inv.allocId),
    };
  };

  const until = (cond: () => Promise<boolean> | boolean, what: string): Promise<void> => waitFor(cond, 10_000, what);

  it("16 concurrent acquirers of a capacity-1 semaphore never overlap", async () => {
    const clients = Array.from({ length: 16 }, () => client());
    const order: string[] = [];
    let inside: string | undefined;
    await Promise.all(
      clients.map(async (c) => {
        const r = await c.acquire({ name: "critical", capacity: 1, timeout_seconds: 30 });
        assert.equal(r.status, 200, r.text);
        assert.deepEqual(r.json, { name: "critical", allocation_id: c.inv.allocId, capacity: 1, acquired: true });
        assert.equal(inside, undefined, `${c.inv.allocId} entered while ${inside} held the slot`);
        inside = c.inv.allocId;
        // A round trip while holding the slot: every other acquirer gets its chance to (wrongly)
        // enter, and the server itself must report this one as the only holder.
        const s = await c.status("critical");
        assert.deepEqual(s.holders, [c.inv.allocId]);
        assert.equal(s.available, 0);
        inside = undefined;
        order.push(c.inv.allocId);
        const rel = await c.release("critical");
        assert.equal(rel.status, 200, rel.text);
      }),
    );
    assert.deepEqual([...order].sort(), clients.map((c) => c.inv.allocId).sort(), "every acquirer got the slot once");
    for (const c of clients) c.done();
  });

  it("capacity 3 admits exactly 3; the rest wait first come, first served", async () => {
    const cs = Array.from({ length: 6 }, () => client());
    const granted: string[] = [];
    const pending = new Map<string, Promise<unknown>>();
    for (const c of cs) {
      pending.set(c.inv.allocId, c.acquire({ name: "pool", capacity: 3, timeout_seconds: 30 }).then((r) => {
        assert.equal(r.status, 200, r.text);
        granted.push(c.inv.allocId);
      }));
      // Queue them in a known order.
      await until(async () => {
        const s = await cs[0]!.status("pool");
        return s.holders.length + s.waiting === pending.size;
      }, "the request to be queued");
    }
    await until(async () => granted.length === 3, "3 holders");
    const s = await cs[0]!.status("pool");
    // The server's own account: three holders and three queued, so no fourth grant is on its way.
    assert.deepEqual(s, { name: "pool", capacity: 3, holders: cs.slice(0, 3).map((c) => c.inv.allocId), waiting: 3, available: 0 });
    assert.equal(granted.length, 3, "a fourth got in");
    assert.equal((await cs[1]!.release("pool")).status, 200);
    await until(async () => granted.length === 4, "the fourth");
    assert.equal(granted[3], cs[3]!.inv.allocId, "FIFO");
    assert.equal((await cs[0]!.release("pool")).status, 200);
    await until(async () => granted.length === 5, "the fifth");
    assert.equal(granted[4], cs[4]!.inv.allocId, "FIFO");
    // Re-acquire by a holder is a no-op; a different capacity is a conflict.
    const again = await cs[2]!.acquire({ name: "pool" });
    assert.deepEqual(again.json, { name: "pool", allocation_id: cs[2]!.inv.allocId, capacity: 3, acquired: true });
    const clash = await cs[5]!.acquire({ name: "pool", capacity: 2 });
    assert.equal(clash.status, 409);
    assert.deepEqual(clash.json, { message: API_ERRORS.semaphoreConflict.message, code: API_ERRORS.semaphoreConflict.code });
    for (const c of cs) c.done();
    await Promise.all(pending.values());
  });

  it("a waiter times out with 408 and leaves the queue", async () => {
    const a = client();
    const b = client();
    assert.equal((await a.acquire({ name: "slow" })).status, 200);
    const timedOut = b.acquire({ name: "slow", timeout_seconds: 1 });
    // It waits in the queue (the exact timeout is SemaphoreBoard's, tested with mocked timers).
    await until(async () => (await a.status("slow")).waiting === 1, "b queued until its timeout");
    const r = await timedOut;
    assert.equal(r.status, 408);
    assert.deepEqual(r.json, { message: "Timed out waiting for semaphore", code: "SEMAPHORE_TIMEOUT" });
    assert.equal((await a.status("slow")).waiting, 0);
    // timeout_seconds 0 means the default (600 s), as in the original: b waits until a releases.
    const zero = b.acquire({ name: "slow", timeout_seconds: 0 });
    await until(async () => (await a.status("slow")).waiting === 1, "b queued");
    assert.equal((await a.release("slow")).status, 200);
    assert.equal((await zero).status, 200);
    a.done();
    b.done();
  });

  it("unregistering a holder (its process ended) frees its slots at once", async () => {
    const a = client();
    const b = client();
    assert.equal((await a.acquire({ name: "crash" })).status, 200);
    assert.equal((await a.acquire({ name: "other", capacity: 2 })).status, 200);
    // b's own timeout is an hour: only a's unregistration can grant it the slot.
    const waiting = b.acquire({ name: "crash", timeout_seconds: 3600 });
    await until(async () => (await b.status("crash")).waiting === 1, "b to wait");
    a.done();
    const r = await waiting;
    assert.equal(r.status, 200, r.text);
    assert.deepEqual((await b.status("crash")).holders, [b.inv.allocId]);
    assert.deepEqual(await b.status("other"), { name: "other", capacity: 2, holders: [], waiting: 0, available: 2 });
    b.done();
  });

  it("a waiter whose connection drops is removed from the queue", async () => {
    const a = client();
    const b = client();
    const c = client();
    assert.equal((await a.acquire({ name: "drop" })).status, 200);
    const ac = new AbortController();
    const dropped = b.acquire({ name: "drop", timeout_seconds: 30 }, ac.signal).catch((e: Error) => e);
    await until(async () => (await a.status("drop")).waiting === 1, "b to wait");
    ac.abort();
    assert.ok((await dropped) instanceof Error);
    await until(async () => (await a.status("drop")).waiting === 0, "b to leave the queue");
    const cWait = c.acquire({ name: "drop", timeout_seconds: 30 });
    await until(async () => (await a.status("drop")).waiting === 1, "c to wait");
    assert.equal((await a.release("drop")).status, 200);
    assert.equal((await cWait).status, 200);
    assert.deepEqual((await a.status("drop")).holders, [c.inv.allocId]);
    for (const x of [a, b, c]) x.done();
  });

  it("release without hold is 409; status of an unknown name has defaults; scope is job + EVENT + name", async () => {
    const a = client("cli");
    const b = client("pre_deploy");
    const r = await a.release("nobody-holds-this");
    assert.equal(r.status, 409);
    assert.deepEqual(r.json, { message: "Semaphore acquire or release failed", code: "SEMAPHORE_CONFLICT" });
    assert.deepEqual(await a.status("unknown"), { name: "unknown", capacity: 1, holders: [], waiting: 0, available: 1 });
    assert.equal((await a.acquire({ name: "scoped" })).status, 200);
    // Same name under another event is another semaphore.
    assert.equal((await b.acquire({ name: "scoped", timeout_seconds: 0 })).status, 200);
    assert.equal((await b.release("scoped")).status, 200);
    assert.equal((await b.release("scoped")).status, 409);
    assert.equal((await a.release("scoped")).status, 200);
    a.done();
    b.done();
  });
});
