// Unit tests of the hand-written TypeScript SDK runtime (codegen/templates/ts/runtime.ts), run
// under Bun by test/sdk/templates.test.ts. That test fills the template's codegen:value lines
// with the generator's real values into ./runtime.ts next to this file and passes the values
// as MAAND_SDK_VALUES, so nothing here repeats a header or variable name.
import assert from "node:assert/strict";
import { createServer } from "node:net";
import * as rt from "./runtime.ts";

const VALUES = JSON.parse(process.env.MAAND_SDK_VALUES ?? "{}");
const ENV: Record<string, string> = VALUES.ENV;
const HEADER_ENV: Record<string, string[]> = VALUES.HEADER_ENV;

const cases: Array<[string, () => unknown]> = [];
const test = (name: string, fn: () => unknown) => cases.push([name, fn]);

function clearHookEnv(): void {
  for (const v of Object.values(ENV)) delete process.env[v];
}

async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

test("the generator filled every constant", () => {
  for (const name of ["HEADER_ENV", "AUTH_HEADER", "AUTH_SCHEME", "CONTENT_TYPE_HEADER", "JSON_CONTENT_TYPE", "DEFAULT_HOST", "DEFAULT_PORT", "ENV"]) {
    assert.deepEqual((rt as Record<string, unknown>)[name], VALUES[name], name);
  }
});

test("apiBaseUrl: document server by default, env overrides, bad port is a clear error", () => {
  assert.equal(rt.apiBaseUrl({}), `http://${VALUES.DEFAULT_HOST}:${VALUES.DEFAULT_PORT}`);
  assert.equal(rt.apiBaseUrl({ [ENV.apiHost!]: "127.0.0.9", [ENV.apiPort!]: "9999" }), "http://127.0.0.9:9999");
  assert.throws(() => rt.apiBaseUrl({ [ENV.apiPort!]: "80a" }), (e: unknown) => e instanceof rt.MaandApiError && e.status === undefined && e.message.includes(ENV.apiPort!));
});

test("requestHeaders: scope headers, bearer token, content type", () => {
  const env = { [ENV.allocationId!]: "A", [ENV.event!]: "cli", [ENV.hook!]: "h", [ENV.command!]: "c", [ENV.apiToken!]: "T" };
  const expected: Record<string, string> = {};
  for (const [name, vars] of Object.entries(HEADER_ENV)) expected[name] = vars.map((v) => env[v]).find((v) => v)!;
  expected[VALUES.AUTH_HEADER] = `${VALUES.AUTH_SCHEME} T`;
  expected[VALUES.CONTENT_TYPE_HEADER] = VALUES.JSON_CONTENT_TYPE;
  assert.deepEqual(rt.requestHeaders(true, env), expected);
  assert.deepEqual(rt.requestHeaders(false, {}), {});
  assert.deepEqual(rt.requestHeaders(false, { [ENV.apiToken!]: "" }), {});
});

test("requestHeaders: the hook name wins over COMMAND, which is the fallback", () => {
  const commandHeader = Object.entries(HEADER_ENV).find(([, vars]) => vars.includes(ENV.hook!))![0];
  assert.equal(rt.requestHeaders(false, { [ENV.hook!]: "h", [ENV.command!]: "c" })[commandHeader], "h");
  assert.equal(rt.requestHeaders(false, { [ENV.hook!]: "", [ENV.command!]: "c" })[commandHeader], "c");
});

test("encodeQuery", () => {
  assert.equal(rt.encodeQuery(undefined), "");
  assert.equal(rt.encodeQuery({ a: undefined }), "");
  assert.equal(rt.encodeQuery({ ns: "vars/job/a b", n: 3, t: true, x: undefined, y: null }), "?ns=vars%2Fjob%2Fa+b&n=3&t=true");
});

test("context helpers read the hook environment", () => {
  clearHookEnv();
  assert.equal(rt.allocationId(), undefined);
  Object.assign(process.env, {
    [ENV.allocationId!]: "id",
    [ENV.allocationIp!]: "10.0.0.1",
    [ENV.allocationIndex!]: "2",
    [ENV.job!]: "api",
    [ENV.event!]: "cli",
    [ENV.hook!]: "hook_x",
    [ENV.disabled!]: "1",
  });
  assert.deepEqual(
    [rt.allocationId(), rt.allocationIp(), rt.allocationIndex(), rt.jobName(), rt.hookEvent(), rt.hookName()],
    ["id", "10.0.0.1", "2", "api", "cli", "hook_x"],
  );
  assert.equal(rt.isAllocationDisabled(), true);
  process.env[ENV.disabled!] = "0";
  assert.equal(rt.isAllocationDisabled(), false);
  clearHookEnv();
});

test("isOneShot prefers ONE_SHOT, else BATCH_INDEX == ALLOCATION_INDEX == 0", () => {
  const b = ENV.batchIndex!, a = ENV.allocationIndex!, o = ENV.oneShot!;
  assert.equal(rt.isOneShot({ [b]: "0", [a]: "0" }), true);
  assert.equal(rt.isOneShot({ [b]: "1", [a]: "0" }), false);
  assert.equal(rt.isOneShot({ [b]: "0", [a]: "1" }), false);
  assert.equal(rt.isOneShot({}), false);
  assert.equal(rt.isOneShot({ [o]: "1", [b]: "0", [a]: "3" }), true);
  assert.equal(rt.isOneShot({ [o]: "0", [b]: "0", [a]: "0" }), false);
  assert.equal(rt.isOneShot({ [o]: "", [b]: "0", [a]: "0" }), true);
});

test("raiseForStatus / unwrap / errorBody", async () => {
  const ok = new Response('{"a":1}', { status: 200 }) as rt.TypedResponse<{ a: number }>;
  assert.equal(await rt.raiseForStatus(ok), ok);
  assert.deepEqual(await rt.unwrap(new Response('{"a":1}', { status: 200 }) as rt.TypedResponse<{ a: number }>), { a: 1 });
  const err = new Response('{"message":"Invalid or unauthorized namespace","code":"X"}', { status: 400 });
  await assert.rejects(rt.raiseForStatus(err), (e: unknown) => e instanceof rt.MaandApiError && e.status === 400 && e.message === "Invalid or unauthorized namespace" && e.code === "X" && e.response === err);
  // the body stays readable after the error was extracted
  assert.equal((await err.json()).code, "X");
  await assert.rejects(rt.unwrap(new Response("bad gateway\n", { status: 502 })), (e: unknown) => e instanceof rt.MaandApiError && e.message === "bad gateway" && e.code === undefined);
  // The server's detail is part of the exception text; the note's message stays apart.
  const detailed = new Response(JSON.stringify({ message: "Invalid or unauthorized namespace", code: "UNAUTHORIZED_NAMESPACE", detail: "vars/job/pg needs a demand" }), { status: 400 });
  await assert.rejects(
    rt.raiseForStatus(detailed),
    (e: unknown) =>
      e instanceof rt.MaandApiError && e.message === "Invalid or unauthorized namespace: vars/job/pg needs a demand" && e.apiMessage === "Invalid or unauthorized namespace" && e.detail === "vars/job/pg needs a demand",
  );
  await assert.rejects(rt.raiseForStatus(new Response("", { status: 500, statusText: "Internal Server Error" })), /Internal Server Error/);
});

test("request over HTTP: GET query, PUT JSON body, headers from the environment, errors as responses", async () => {
  const seen: Array<{ method: string; url: string; headers: Headers; body: string }> = [];
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(req) {
      seen.push({ method: req.method, url: req.url, headers: req.headers, body: await req.text() });
      const missing = new URL(req.url).pathname.startsWith("/missing");
      return Response.json(missing ? { message: "nope", code: "NOPE" } : { ok: true }, { status: missing ? 404 : 200 });
    },
  });
  try {
    clearHookEnv();
    Object.assign(process.env, {
      [ENV.apiHost!]: "127.0.0.1",
      [ENV.apiPort!]: String(server.port),
      [ENV.allocationId!]: "alloc-1",
      [ENV.event!]: "cli",
      [ENV.hook!]: "hook_x",
      [ENV.apiToken!]: "tok",
    });
    const r = await rt.request<{ ok: boolean }>("GET", "/p", { query: { namespace: "vars/job/api", key: "k", skip: undefined } });
    assert.equal(r.status, 200);
    assert.deepEqual(await r.json(), { ok: true });
    const get = seen[0]!;
    assert.equal(get.method, "GET");
    assert.equal(new URL(get.url).pathname + new URL(get.url).search, "/p?namespace=vars%2Fjob%2Fapi&key=k");
    assert.equal(get.body, "");
    assert.equal(get.headers.get(VALUES.CONTENT_TYPE_HEADER), null);
    assert.equal(get.headers.get(VALUES.AUTH_HEADER), `${VALUES.AUTH_SCHEME} tok`);
    for (const [name, vars] of Object.entries(HEADER_ENV)) assert.equal(get.headers.get(name), vars.map((v) => process.env[v]).find((v) => v));

    assert.equal((await rt.request("PUT", "/p", { body: { value: "é", ttl: 0 } })).ok, true);
    assert.deepEqual(JSON.parse(seen[1]!.body), { value: "é", ttl: 0 });
    assert.equal(seen[1]!.headers.get(VALUES.CONTENT_TYPE_HEADER), VALUES.JSON_CONTENT_TYPE);

    const missing = await rt.request("DELETE", "/missing");
    assert.equal(missing.status, 404);
    await assert.rejects(rt.raiseForStatus(missing), (e: unknown) => e instanceof rt.MaandApiError && e.status === 404 && e.message === "nope");

    const port = await closedPort();
    process.env[ENV.apiPort!] = String(port);
    await assert.rejects(rt.request("GET", "/p"), (e: unknown) => e instanceof rt.MaandApiError && e.status === undefined && e.message.includes(`127.0.0.1:${port}`));
  } finally {
    server.stop(true);
    clearHookEnv();
  }
});

let failed = 0;
for (const [name, fn] of cases) {
  try {
    await fn();
    console.log(`ok - ${name}`);
  } catch (err) {
    failed++;
    console.log(`not ok - ${name}\n${(err as Error).stack ?? err}`);
  }
}
console.log(`${cases.length - failed}/${cases.length} passed`);
process.exit(failed ? 1 : 0);
