import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { Agent, request as httpRequest } from "node:http";
import { connect } from "node:net";
import { ROUTES, ROUTE_NAMES } from "../../server/api/routes.js";
import type { Invocation } from "../../server/api/registry.js";
import { ALLOC, startFixture, type Fixture } from "./fixture.js";
import { mulberry32 } from "../helpers/rng.js";

/**
 * A bounded fuzz of the runtime API from a real hook's credentials: a few thousand generated
 * requests over every route, method and header, well-formed and not, with a seeded generator
 * (the seed is printed, so a failure can be replayed with MAAND_FUZZ_SEED). For every answer:
 * no 5xx, no stack trace, a JSON {message, code} body on every error, and the stored data
 * unchanged whenever the answer is a 4xx. The server must still answer afterwards.
 */

const SEED = Number(process.env.MAAND_FUZZ_SEED ?? Date.now() % 1_000_000);
const REQUESTS = 2500;
const RAW_REQUESTS = 300;

const STACK = /\n\s+at |node_modules|\.js:\d+|\.ts:\d+/;

describe(`runtime API fuzz (seed ${SEED})`, () => {
  let f: Fixture;
  let inv: Invocation;
  let hc: Invocation;
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  before(async () => {
    f = await startFixture();
    inv = f.invoke();
    hc = f.invoke({ allocId: ALLOC.api2, workerIp: "10.0.0.2", event: "health_check", command: "hook_check" });
  });
  after(async () => {
    agent.destroy();
    await f.close();
  });

  const r = mulberry32(SEED);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const chance = (p: number) => r() < p;

  const STRINGS = [
    "", " ", "vars/job/api", "secrets/job/api", "maand/job/api", "maand/job/api/worker/10.0.0.1", "maand/job/api/worker/10.0.0.2",
    "vars/job/database", "secrets/job/database", "vars/job/cache", "maand/worker/10.0.0.1", "maand/worker/10.0.0.2/tags",
    "vars/bucket", "vars/bucket/job/api", "maand/bucket", "maand", "../../etc/passwd", "vars//job", "db_url", "db_password",
    "rollout_order", "10.0.0.2,10.0.0.1", "10.0.0.1,10.0.0.1", "k", "é", "😀", "\u0000", "a\u0000b", "\ud800", "x\udfff",
    "<script>", "%00", "\n", "\r\n", "\u001b[31m", "x".repeat(2000), "é".repeat(600), "null", "__proto__", "constructor",
  ];
  const value = (): unknown => {
    switch (Math.floor(r() * 10)) {
      case 0:
        return null;
      case 1:
        return Math.floor(r() * 200) - 100;
      case 2:
        return pick([0, -1, 1.5, 1e300, Number.MAX_SAFE_INTEGER, 3600, 64, 65]);
      case 3:
        return chance(0.5);
      case 4:
        return [pick(STRINGS), 1];
      case 5:
        return { namespace: pick(STRINGS) };
      default:
        return pick(STRINGS);
    }
  };
  const FIELDS = ["namespace", "key", "value", "ttl", "name", "capacity", "timeout_seconds", "extra", "__proto__"];
  const bodyObject = (): Record<string, unknown> => {
    const o: Record<string, unknown> = {};
    for (const field of FIELDS) if (chance(0.45)) o[field] = value();
    // Timeouts stay short: a valid acquire may wait for a slot another request holds.
    if (typeof o.timeout_seconds === "number" && (o.timeout_seconds === 0 || o.timeout_seconds > 0.05)) o.timeout_seconds = 0.01;
    if (o.timeout_seconds === undefined && chance(0.9)) o.timeout_seconds = 0.01;
    return o;
  };

  const PATHS = [...ROUTE_NAMES.map((n) => ROUTES[n].path), "/", "/kv/", "/nope", "/kv/keys/x", "/semaphore", "//kv", "/kv?x", "/%2e%2e/kv"];
  const METHODS = ["GET", "PUT", "POST", "DELETE", "PATCH", "HEAD", "OPTIONS", "PROPFIND"];
  const NAMESPACES = STRINGS.filter((x) => /^(vars|secrets|maand)/.test(x));
  const KEYS = ["db_url", "db_password", "rollout_order", "k", "new", "é", "version"];
  /** Well-formed input for a route, with names that are sometimes allowed and sometimes not. */
  const template = (name: (typeof ROUTE_NAMES)[number]): Record<string, unknown> => {
    const keyed = { namespace: pick(NAMESPACES), key: pick(KEYS) };
    switch (name) {
      case "putKv":
      case "putSecret":
        return { ...keyed, value: pick(["v", "10.0.0.2,10.0.0.1", "10.0.0.1", "", "a\u0000b"]), ...(chance(0.3) ? { ttl: pick([0, 60]) } : {}) };
      case "getKv":
      case "deleteKv":
      case "deleteSecret":
        return keyed;
      case "listKeys":
        return chance(0.5) ? {} : { namespace: pick(NAMESPACES) };
      case "listDemands":
        return {};
      case "acquireSemaphore":
        return { name: pick(["m", "n"]), capacity: pick([1, 2]), timeout_seconds: 0.01 };
      default:
        return { name: pick(["m", "n"]) };
    }
  };
  /** A request line and body: mostly real routes with valid or lightly mutated input. */
  const requestOf = (): { method: string; path: string; body: Record<string, unknown> | string | undefined } => {
    if (chance(0.65)) {
      const name = pick(ROUTE_NAMES);
      const body = template(name);
      for (let m = Math.floor(r() * 3); m > 0; m--) body[pick(FIELDS)] = value();
      if (typeof body.timeout_seconds === "number" && body.timeout_seconds !== 0.01) body.timeout_seconds = 0.01;
      return { method: ROUTES[name].method, path: ROUTES[name].path, body };
    }
    const kind = r();
    const body = kind < 0.7 ? bodyObject() : kind < 0.85 ? pick(["{", "[]", "nul", '{"a":', "\u0000", '"x"']) : "x".repeat(Math.floor(r() * 4000));
    return { method: pick(METHODS), path: pick(PATHS), body };
  };

  function headers(): Record<string, string> {
    const who = chance(0.85) ? inv : hc;
    const good = f.headersFor(who);
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(good)) {
      if (chance(0.06)) continue; // missing
      out[chance(0.1) ? k.toLowerCase() : k] = chance(0.05) ? pick(["", "x", ALLOC.db1, "Bearer nope", "cli", "hook_x", " "]) : v;
    }
    if (chance(0.03)) out.Host = pick(["evil.example", "localhost", "127.0.0.1", "[::1]"]);
    return out;
  }

  function send(method: string, path: string, hdrs: Record<string, string>, body: Buffer | undefined): Promise<{ status: number; text: string }> {
    // node:http frames no GET/DELETE body by itself: every real client sends Content-Length.
    if (body !== undefined) hdrs["Content-Length"] = String(body.length);
    return new Promise((resolve, reject) => {
      const req = httpRequest({ host: "127.0.0.1", port: f.api.port, method, path, headers: hdrs, agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }));
        res.on("error", reject);
      });
      req.on("error", reject);
      req.end(body);
    });
  }

  it(`${REQUESTS} generated requests: no 5xx, no stack trace, nothing stored on a 4xx`, async () => {
    let before = f.snapshot();
    const statuses = new Map<number, number>();
    for (let i = 0; i < REQUESTS; i++) {
      const generated = requestOf();
      const method = generated.method;
      let path = generated.path;
      if (chance(0.2)) {
        const q = bodyObject();
        const params = new URLSearchParams();
        for (const [k, v] of Object.entries(q)) params.append(k, typeof v === "string" ? v : JSON.stringify(v));
        path += `${path.includes("?") ? "&" : "?"}${params.toString()}`;
      }
      const hdrs = headers();
      let body: Buffer | undefined;
      if (method !== "HEAD" && generated.body !== undefined && chance(0.9)) {
        body = Buffer.from(typeof generated.body === "string" ? generated.body : JSON.stringify(generated.body));
        if (chance(0.95)) hdrs["Content-Type"] = chance(0.85) ? "application/json" : pick(["application/json; charset=utf-8", "text/plain", "APPLICATION/JSON", ""]);
      }
      const what = `#${i} ${method} ${path.slice(0, 120)} ${JSON.stringify(hdrs).slice(0, 200)} ${body?.toString("utf8").slice(0, 200) ?? ""}`;
      const res = await send(method, path, hdrs, body);
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      assert.ok(res.status >= 200 && res.status < 500, `${what}\n-> ${res.status} ${res.text}`);
      assert.doesNotMatch(res.text, STACK, what);
      if (res.status >= 400 && method !== "HEAD") {
        const json = JSON.parse(res.text) as { message?: unknown; code?: unknown };
        assert.equal(typeof json.message, "string", what);
        assert.equal(typeof json.code, "string", what);
      }
      const after = f.snapshot();
      if (res.status >= 400) assert.equal(after, before, `${what}\n-> ${res.status} ${res.text}: the store changed`);
      before = after;
    }
    // The mix reached the routes: successes and every common error class.
    for (const s of [200, 400, 401, 403, 404, 405, 409, 415]) assert.ok((statuses.get(s) ?? 0) > 0, `no ${s} among ${JSON.stringify([...statuses])}`);
  });

  it(`${RAW_REQUESTS} malformed raw requests are answered (or closed) without a 5xx or a stack trace`, async () => {
    f.kv.rollback();
    const before = f.snapshot();
    const LINES = [
      "GET /kv HTTP/1.1", "GET /kv HTTP/9.9", "G\u0000T /kv HTTP/1.1", "GET  HTTP/1.1", "GET /kv", "/kv HTTP/1.1", "FOO /kv HTTP/1.1",
      "CONNECT 127.0.0.1:1 HTTP/1.1", "GET http://evil.example/kv HTTP/1.1", "GET /kv?namespace=%zz HTTP/1.1", `GET /${"a".repeat(9000)} HTTP/1.1`,
    ];
    const HEADER_LINES = ["Host: 127.0.0.1", "Content-Length: -1", "Content-Length: 5\r\nContent-Length: 6", "Transfer-Encoding: chunked", "Bad Header", ": x", `X-Long: ${"y".repeat(20000)}`, "Expect: 100-continue"];
    for (let i = 0; i < RAW_REQUESTS; i++) {
      const lines = [pick(LINES)];
      for (const hl of HEADER_LINES) if (chance(0.25)) lines.push(hl);
      if (chance(0.7)) lines.push(...Object.entries(f.headersFor(inv)).map(([k, v]) => `${k}: ${v}`));
      const text = `${lines.join("\r\n")}\r\n\r\n${chance(0.5) ? '{"namespace":"vars/job/api","key":"raw","value":"x"}' : ""}`;
      const answer = await new Promise<string>((resolve) => {
        const s = connect(f.api.port, "127.0.0.1");
        const chunks: Buffer[] = [];
        s.on("data", (c: Buffer) => chunks.push(c));
        s.on("error", () => resolve(Buffer.concat(chunks).toString("utf8")));
        s.on("close", () => resolve(Buffer.concat(chunks).toString("utf8")));
        s.end(text);
      });
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0);
      assert.ok(status === 0 || (status >= 100 && status < 500), `#${i} ${JSON.stringify(text.slice(0, 300))}\n-> ${answer.slice(0, 500)}`);
      assert.doesNotMatch(answer, STACK);
      if (status >= 400) assert.equal(f.snapshot(), before, `#${i}: the store changed`);
      f.kv.rollback();
    }
  });

  it("the server still answers afterwards", async () => {
    const res = await send("GET", "/kv?namespace=vars/job/api&key=db_url", f.headersFor(inv), undefined);
    assert.equal(res.status, 200, res.text);
    assert.equal(JSON.parse(res.text).value, "postgres://db/api");
  });
});
