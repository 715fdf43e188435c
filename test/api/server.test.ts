import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createServer, request as httpRequest, Agent } from "node:http";
import { MaandError } from "../../server/errors.js";
import { startRuntimeApi } from "../../server/api/server.js";
import { ROUTES } from "../../server/api/routes.js";
import { waitFor } from "../helpers/wait.js";
import { call, semaphoreStatus, startFixture, type Fixture } from "./fixture.js";

const listenOn = (port: number, host: string) =>
  new Promise<import("node:http").Server>((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(port, host, () => resolve(s));
  });

describe("runtime API server lifecycle", () => {
  let f: Fixture;
  before(async () => {
    f = await startFixture();
  });
  after(() => f.close());

  it("listens on 127.0.0.1 only, at the port it reports", async () => {
    assert.match(f.api.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.ok(f.api.port > 0);
    assert.equal(f.api.url, `http://127.0.0.1:${f.api.port}`);
    // Another loopback address reaches nothing: the socket is bound to 127.0.0.1, not 0.0.0.0.
    await assert.rejects(call(`http://127.0.0.2:${f.api.port}`, "GET", "/kv"), /ECONNREFUSED/);
  });

  it("a busy port is a MaandError naming hook_api_port in maand.conf", async () => {
    const other = await startRuntimeApi({ db: f.bucket.db, kv: f.kv, registry: f.registry, auth: "token" }, { port: f.api.port }).catch((e: unknown) => e);
    assert.ok(other instanceof MaandError, String(other));
    assert.match(other.message, /hook_api_port/);
    assert.match(other.message, /maand\.conf/);
    assert.match(other.message, new RegExp(`port ${f.api.port}`));
  });

  it("stop() closes keep-alive connections and pending waits, releases the port, and is idempotent", async () => {
    const api = await startRuntimeApi({ db: f.bucket.db, kv: f.kv, registry: f.registry, auth: "token" }, { port: 0 });
    const holder = f.invoke({ allocId: "stop-a" });
    const waiter = f.invoke({ allocId: "stop-b" });
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const get = () =>
      new Promise<number>((resolve, reject) => {
        const req = httpRequest(`${api.url}/kv?namespace=vars/job/api&key=db_url`, { agent, headers: f.headersFor(holder) }, (res) => {
          res.resume();
          res.on("end", () => resolve(res.statusCode ?? 0));
        });
        req.on("error", reject);
        req.end();
      });
    assert.equal(await get(), 200);
    assert.equal(await get(), 200);
    const socketsOpen = Object.values(agent.freeSockets).flat().length;
    assert.equal(socketsOpen, 1, "a kept-alive connection is open");
    const freeSocket = Object.values(agent.freeSockets).flat()[0]!;
    const closed = new Promise<void>((resolve) => freeSocket.once("close", () => resolve()));
    assert.equal((await call(api.url, "POST", ROUTES.acquireSemaphore.path, { body: { name: "s" }, headers: f.headersFor(holder) })).status, 200);
    const pendingWait = call(api.url, "POST", ROUTES.acquireSemaphore.path, { body: { name: "s", timeout_seconds: 60 }, headers: f.headersFor(waiter) }).then(
      (r) => r.status,
      (e: Error) => e,
    );
    await waitFor(async () => (await semaphoreStatus(api.url, f.headersFor(holder), "s")).waiting === 1, 10_000, "the waiter to queue");
    await Promise.all([api.stop(), api.stop()]);
    await api.stop();
    await closed;
    // stop() answered the waiter itself (409, or its connection closed): a stop that waited for
    // it would have let the waiter's own 60 s timeout answer it (408).
    const outcome = await pendingWait;
    assert.ok(outcome instanceof Error || outcome === 409, String(outcome));
    // The port is free again.
    const s = await listenOn(api.port, "127.0.0.1");
    await new Promise((r) => s.close(r));
    agent.destroy();
    f.registry.unregister("stop-a");
    f.registry.unregister("stop-b");
  });

  it("stop() after a failed request still releases the port", async () => {
    const api = await startRuntimeApi({ db: f.bucket.db, kv: f.kv, registry: f.registry, auth: "token" }, { port: 0 });
    assert.equal((await call(api.url, "GET", "/kv", { rawBody: "{", headers: { "Content-Type": "application/json" } })).status, 400);
    await api.stop();
    const s = await listenOn(api.port, "127.0.0.1");
    await new Promise((r) => s.close(r));
  });

  it("a stopped server no longer reacts to unregistrations (its listener is removed)", async () => {
    const listening = f.registry.listenerCount;
    const api = await startRuntimeApi({ db: f.bucket.db, kv: f.kv, registry: f.registry, auth: "token" }, { port: 0 });
    assert.equal(f.registry.listenerCount, listening + 1, "a running server listens for unregistrations");
    await api.stop();
    assert.equal(f.registry.listenerCount, listening, "stop() removed the server's listener");
    const inv = f.invoke({ allocId: "after-stop" });
    assert.doesNotThrow(() => f.registry.unregister(inv.allocId));
  });
});
