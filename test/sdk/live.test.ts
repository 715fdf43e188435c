import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { ALLOC, call, semaphoreStatus, startFixture, type Fixture } from "../api/fixture.js";
import { waitFor } from "../helpers/wait.js";
import { ROUTES } from "../../server/api/routes.js";
import type { Invocation } from "../../server/api/registry.js";
import { API_ERRORS, type ApiErrorName } from "../../server/api/errors.js";
import { DEFAULT_CONF } from "../../server/bucket/conf.js";
import { HOOK_ENV } from "../../server/hooks/env-names.js";
import { OUTPUTS } from "../../codegen/paths.js";
import { ALIASES, HELPERS, PYTHON_ONLY_HELPERS } from "../../codegen/sdk-names.js";
import { typeCheckSdk } from "../../codegen/check.js";
import { baseEnv, BUN, explain, pythons, ROOT, run } from "./runtimes.js";

/**
 * The generated SDKs against a live runtime API: a real python3 script and a real Bun script,
 * each next to its committed SDK file, call every helper and alias as hook api/hook_migrate
 * (cli) on 10.0.0.1 of the API test fixture; the test checks what the server answered against
 * the error catalogue and what reached maand.db.
 */

async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

type Out = Record<string, any>;

describe("generated SDKs against the live runtime API", () => {
  let fx: Fixture;
  let dir: string;
  let inv: Invocation;
  let upstream: Invocation;
  let port: number;
  const secret = `sdk-secret-${randomBytes(8).toString("hex")}`;

  before(async () => {
    fx = await startFixture();
    inv = fx.invoke();
    upstream = fx.registry.register({ allocId: ALLOC.db1, job: "database", workerIp: "10.0.0.1", event: "cli", command: "hook_schema" });
    dir = mkdtempSync(join(tmpdir(), "maand-sdk-live-"));
    copyFileSync(join(ROOT, OUTPUTS.python), join(dir, "maand.py"));
    copyFileSync(join(ROOT, OUTPUTS.typescript), join(dir, "maand.ts"));
    copyFileSync(join(ROOT, "test", "sdk", "python", "sdk_live.py"), join(dir, "sdk_live.py"));
    copyFileSync(join(ROOT, "test", "sdk", "bun", "sdk-live.bun.mts"), join(dir, "sdk-live.bun.mts"));
    copyFileSync(join(ROOT, "test", "sdk", "bun", "no-fetch.bun.mts"), join(dir, "no-fetch.bun.mts"));
    port = await closedPort();
  });
  after(async () => {
    await fx.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const hookEnv = (): Record<string, string> => ({
    ...baseEnv(),
    [HOOK_ENV.allocationId]: inv.allocId,
    [HOOK_ENV.allocationIp]: inv.workerIp,
    [HOOK_ENV.allocationIndex]: "0",
    [HOOK_ENV.job]: inv.job,
    [HOOK_ENV.event]: inv.event,
    [HOOK_ENV.command]: inv.command,
    [HOOK_ENV.hook]: inv.command,
    [HOOK_ENV.disabled]: "0",
    [HOOK_ENV.apiHost]: "127.0.0.1",
    [HOOK_ENV.apiPort]: String(fx.api.port),
    [HOOK_ENV.apiToken]: inv.token,
    [HOOK_ENV.bucketRoot]: fx.root,
    [HOOK_ENV.batchIndex]: "0",
    [HOOK_ENV.batchCount]: "1",
    [HOOK_ENV.oneShot]: "1",
  });

  const spec = () => ({
    env: HOOK_ENV,
    helpers: HELPERS,
    python_only: PYTHON_ONLY_HELPERS,
    aliases: ALIASES,
    secret,
    workers: ["10.0.0.1", "10.0.0.2"],
    upstream: ["vars/job/database", "dsn"],
    unrelated_vars: "vars/job/cache",
    upstream_invocation_env: {
      [HOOK_ENV.allocationId]: upstream.allocId,
      [HOOK_ENV.job]: upstream.job,
      [HOOK_ENV.hook]: upstream.command,
      [HOOK_ENV.command]: upstream.command,
      [HOOK_ENV.apiToken]: upstream.token,
    },
    closed_port: port,
    foreign_allocation_id: ALLOC.api2,
  });

  const catalogued = (name: ApiErrorName) => [API_ERRORS[name].status, API_ERRORS[name].message, API_ERRORS[name].code];

  /** What both SDKs must have seen; `p` is the key prefix the script wrote with. */
  function assertCommon(out: Out, p: string): void {
    assert.deepEqual(out.context, {
      allocation_id: inv.allocId,
      allocation_ip: "10.0.0.1",
      allocation_index: "0",
      job_name: "api",
      hook_event: "cli",
      hook_name: "hook_migrate",
      is_allocation_disabled: false,
      is_one_shot: true,
    });
    for (const [alias, value] of Object.entries(out.context_aliases as Record<string, unknown>)) {
      const target = ALIASES[alias] ?? ALIASES[alias.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)];
      assert.ok(target, alias);
      assert.equal(value, (out.context as Record<string, unknown>)[target], alias);
    }
    assert.equal(out.put_variable[0], 200);
    assert.equal(out.put_variable[1], true);
    assert.equal(out.put_variable[2].namespace, "vars/job/api");
    assert.equal(out.put_variable[2].key, `${p}_db_url`);
    assert.deepEqual(out.store_value, [200, { namespace: "vars/job/api", key: `${p}_db_url`, value: `postgres://${p}/api` }]);
    assert.equal(out.delete_variable[0], 200);
    assert.equal(out.delete_variable[1].deleted, true);
    assert.equal(out.missing_value, null);
    assert.equal(out.missing_default, "fallback");
    assert.equal(out.put_secret[0], 200);
    assert.equal(out.delete_secret.deleted, true);
    const vars: string[] = out.keys.namespaces["vars/job/api"];
    const secrets: string[] = out.keys.namespaces["secrets/job/api"];
    for (const k of [`${p}_db_url`, `${p}_cfg`, "db_url"]) assert.ok(vars.includes(k), `${k} in ${vars}`);
    for (const k of [`${p}_password`, `${p}_token`, "db_password"]) assert.ok(secrets.includes(k), `${k} in ${secrets}`);
    for (const k of [`${p}_tmp`, `${p}_tmp2`]) assert.ok(!vars.includes(k), `${k} was deleted`);
    for (const k of [`${p}_gone`, `${p}_gone2`]) assert.ok(!secrets.includes(k), `${k} was deleted`);
    assert.deepEqual(vars, [...vars].sort());
    assert.deepEqual(out.keys_vars, { namespaces: { "vars/job/api": vars } });
    assert.deepEqual(out.rollout_order, ["10.0.0.2", "10.0.0.1"]);
    assert.deepEqual(out.rollout_order_2, ["10.0.0.1", "10.0.0.2"]);
    assert.equal(out.upstream, "postgres://db");
    assert.deepEqual(out.demands, []);
    assert.deepEqual(out.demands_upstream, [
      { job: "api", hook: "hook_migrate", command: "hook_migrate", demand_config: { min_version: "2.0.0" } },
      { job: "web", hook: "hook_seed", command: "hook_seed", demand_config: {} },
    ]);
    assert.deepEqual(out.acquire, [200, { name: `${p}_mig`, allocation_id: inv.allocId, capacity: 2, acquired: true }]);
    assert.deepEqual(out.status_held, { name: `${p}_mig`, capacity: 2, holders: [inv.allocId], waiting: 0, available: 1 });
    assert.equal(out.release.released, true);
    assert.deepEqual(out.status_free.holders, []);
    assert.equal(out.status_free.available, 2);
    assert.equal(out.status_default.capacity, 1);
    assert.deepEqual(out.status_default.holders, [inv.allocId]);

    const e = out.errors;
    assert.deepEqual(e.release_without_hold, catalogued("semaphoreConflict"));
    assert.deepEqual(e.namespace_denied, catalogued("unauthorizedNamespace"));
    assert.deepEqual(e.read_denied, catalogued("unauthorizedNamespace"));
    assert.deepEqual(e.get_kv_value_denied, catalogued("unauthorizedNamespace"));
    assert.deepEqual(e.missing_key, catalogued("keyNotFound"));
    assert.deepEqual(e.delete_missing, catalogued("keyNotFound"));
    assert.deepEqual(e.delete_missing_secret, catalogued("keyNotFound"));
    assert.deepEqual(e.get_kv_value_missing, catalogued("keyNotFound"));
    assert.deepEqual(e.get_kv_value_wrong_allocation, catalogued("invalidAllocationId"));
    assert.deepEqual(e.no_token, catalogued("missingToken"));
    assert.deepEqual(e.no_allocation_id, catalogued("missingAllocationId"));
    assert.equal(e.bad_rollout_order[0], API_ERRORS.invalidRolloutOrder.status);
    assert.equal(e.bad_rollout_order[2], API_ERRORS.invalidRolloutOrder.code);
    assert.match(e.bad_rollout_order[1], /10\.9\.9\.9/);
    assert.equal(e.bad_capacity[0], 400);
    assert.equal(e.unreachable[0], null);
    assert.match(e.unreachable[1], new RegExp(`127\\.0\\.0\\.1:${port}`));
  }

  /** After commit, maand.db holds the SDK's secrets only as ciphertext. */
  function assertStoredEncrypted(p: string): void {
    fx.kv.commit();
    const row = (ns: string, key: string) =>
      fx.bucket.db.prepare("SELECT value, encrypted FROM kv WHERE namespace = ? AND key = ? ORDER BY version DESC LIMIT 1").get(ns, key) as
        | { value: string; encrypted: number }
        | undefined;
    for (const [key, plain] of [[`${p}_password`, secret], [`${p}_token`, `${secret}-2`]] as const) {
      const r = row("secrets/job/api", key);
      assert.ok(r, key);
      assert.equal(r.encrypted, 1);
      assert.ok(!r.value.includes(secret), `${key} is stored as ciphertext`);
      assert.equal(fx.bucket.kv.get("secrets/job/api", key), plain);
    }
    const leaked = fx.bucket.db.prepare("SELECT COUNT(*) AS n FROM kv WHERE instr(value, ?) > 0").get(secret) as { n: number };
    assert.equal(leaked.n, 0, "the secret appears in no row of the kv table");
    assert.deepEqual(row("vars/job/api", `${p}_db_url`), { value: `postgres://${p}/api`, encrypted: 0 });
  }

  it("Python: every helper and alias, secrets stored encrypted, SSH helpers (python3 and 3.9)", async () => {
    for (const py of await pythons()) {
      const r = await run(py.bin, ["sdk_live.py"], { cwd: dir, env: { ...hookEnv(), MAAND_TEST_SPEC: JSON.stringify(spec()) } });
      assert.equal(r.exitCode, 0, `${py.label}: ${explain(r)}`);
      const out = JSON.parse(r.stdout) as Out;
      assertCommon(out, "py");
      assert.deepEqual(out.ssh_conf, [DEFAULT_CONF.ssh_user, join(fx.root, "secrets", DEFAULT_CONF.ssh_key), DEFAULT_CONF.use_sudo, DEFAULT_CONF.ssh_port]);
      assert.equal(out.bucket_root, fx.root);
      assert.equal(out.bucket_id, fx.bucket.kv.get("maand/bucket", "bucket_id"));
      assert.equal(out.runner_exit, 255, "ssh ran and could not connect to the closed port");
      assert.equal(out.make_exit, 255);
      assert.deepEqual(out.make_check, [255, true]);
      assertStoredEncrypted("py");
    }
  });

  it("Bun: every helper and alias (camelCase and snake_case), typed results, secrets stored encrypted", async () => {
    const r = await run(BUN, ["run", "sdk-live.bun.mts"], { cwd: dir, env: { ...hookEnv(), MAAND_TEST_SPEC: JSON.stringify(spec()) } });
    assert.equal(r.exitCode, 0, explain(r));
    assertCommon(JSON.parse(r.stdout) as Out, "bun");
    assertStoredEncrypted("bun");
  });

  it("Node 20: the same script, transpiled by bun build (no runtime dependencies to bundle), passes under node", async () => {
    const built = await run(BUN, ["build", "sdk-live.bun.mts", "--target", "node", "--outfile", "sdk-live.node.mjs"], { cwd: dir, env: baseEnv() });
    assert.equal(built.exitCode, 0, explain(built));
    const r = await run(process.execPath, ["sdk-live.node.mjs"], { cwd: dir, env: { ...hookEnv(), MAAND_TEST_SPEC: JSON.stringify(spec()) } });
    assert.equal(r.exitCode, 0, explain(r));
    assertCommon(JSON.parse(r.stdout) as Out, "bun");
    assertStoredEncrypted("bun");
  });

  it("maand.ts waits for a semaphore without fetch (Node 20's fetch aborts after 300 s), under Bun and Node 20", async () => {
    const built = await run(BUN, ["build", "no-fetch.bun.mts", "--target", "node", "--outfile", "no-fetch.node.mjs"], { cwd: dir, env: baseEnv() });
    assert.equal(built.exitCode, 0, explain(built));
    const other = fx.invoke({ allocId: ALLOC.api2, workerIp: "10.0.0.2" });
    try {
      for (const [label, argv] of [
        ["bun", [BUN, "run", "no-fetch.bun.mts", "nf-bun"]],
        ["node", [process.execPath, "no-fetch.node.mjs", "nf-node"]],
      ] as const) {
        const name = argv[argv.length - 1]!;
        const held = await call(fx.api.url, "POST", ROUTES.acquireSemaphore.path, { body: { name }, headers: fx.headersFor(other) });
        assert.equal(held.status, 200, held.text);
        const script = run(argv[0], argv.slice(1), { cwd: dir, env: hookEnv() });
        // Release only once the server reports the script queued behind the holder: the slot it
        // then acquires can only have come through a real wait.
        await waitFor(async () => (await semaphoreStatus(fx.api.url, fx.headersFor(other), name)).waiting === 1, 30_000, `${label}: the script to queue`);
        assert.equal((await call(fx.api.url, "POST", ROUTES.releaseSemaphore.path, { body: { name }, headers: fx.headersFor(other) })).status, 200);
        const r = await script;
        assert.equal(r.exitCode, 0, `${label}: ${explain(r)}`);
        const out = JSON.parse(r.stdout) as { acquired: boolean; released: boolean };
        assert.equal(out.acquired, true, label);
        assert.equal(out.released, true, label);
      }
    } finally {
      fx.registry.unregister(other.allocId);
    }
  });

  it("the Bun script type-checks against the SDK's generated types (strict)", () => {
    const tsc = typeCheckSdk(ROOT, join(dir, "sdk-live.bun.mts"), ["--allowImportingTsExtensions"]);
    assert.ok(tsc.ok, tsc.output);
  });

  it("raise_for_status needs the API's answer: a script without any hook environment gets clear errors", async () => {
    const r = await run("python3", ["-c", "import maand\ntry:\n  maand.list_job_keys()\nexcept maand.MaandAPIError as e:\n  print(e.status_code, e.message)"], {
      cwd: dir,
      env: { ...baseEnv(), [HOOK_ENV.apiPort]: String(port) },
    });
    assert.equal(r.exitCode, 0, explain(r));
    assert.match(r.stdout, new RegExp(`^None cannot reach the maand runtime API at http://127\\.0\\.0\\.1:${port}/kv/keys`));
  });
});
