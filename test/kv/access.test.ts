import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { authorizeKv, HealthCheckWriteDenied, NamespaceDenied, type KvOperation, type KvPrincipal } from "../../server/kv/access.js";
import { isBuildOwned, isCertPrivateKey, isEncryptedAtRest, namespaceOwner, parseNamespace } from "../../server/kv/namespaces.js";
import { acceptRolloutOrder, InvalidRolloutOrder, parseRolloutOrder, resolveRolloutOrder } from "../../server/kv/rollout-order.js";

const api = { job: "api", event: "cli", workerIp: "10.0.0.1" };
const upstream = () => ["database"];
const allowed = (who: KvPrincipal, op: KvOperation, ns: string, key = "k"): boolean => {
  try {
    authorizeKv(who, op, ns, key, upstream);
    return true;
  } catch (e) {
    if (e instanceof NamespaceDenied || e instanceof HealthCheckWriteDenied) return false;
    throw e;
  }
};

describe("KV access matrix (pure)", () => {
  it("parses the note's namespace patterns and nothing else", () => {
    assert.deepEqual(parseNamespace("maand/bucket"), { kind: "bucketMeta" });
    assert.deepEqual(parseNamespace("maand/worker/10.0.0.1"), { kind: "worker", worker: "10.0.0.1" });
    assert.deepEqual(parseNamespace("maand/worker/10.0.0.1/tags"), { kind: "workerTags", worker: "10.0.0.1" });
    assert.deepEqual(parseNamespace("vars/bucket/job/web"), { kind: "bucketJobVars", job: "web" });
    assert.deepEqual(parseNamespace("maand/job/api/worker/10.0.0.1"), { kind: "jobWorker", job: "api", worker: "10.0.0.1" });
    assert.deepEqual(parseNamespace("secrets/job/api"), { kind: "jobSecrets", job: "api" });
    for (const bad of ["", "maand", "vars/job", "vars/job/", "secrets/job/api/x", "maand//bucket", "x/y/z", "maand/job/api/workers/1"]) {
      assert.equal(parseNamespace(bad), undefined, bad);
    }
  });

  it("row by row: who may read, PUT/DELETE /kv and PUT/DELETE /kv/secret", () => {
    // [namespace, key, read, put /kv, delete /kv, put/delete /kv/secret]
    const rows: Array<[string, string, boolean, boolean, boolean, boolean]> = [
      ["maand/bucket", "k", true, false, false, false],
      ["maand/worker", "k", true, false, false, false],
      ["maand/worker/10.0.0.1", "k", true, false, false, false],
      ["maand/worker/10.0.0.1/tags", "k", true, false, false, false],
      // least privilege, as the original: another worker's keys are not this invocation's
      ["maand/worker/10.0.0.2", "k", false, false, false, false],
      ["maand/worker/10.0.0.2/tags", "k", false, false, false, false],
      ["vars/bucket", "k", true, false, false, false],
      ["vars/bucket/job/api", "k", true, false, false, false],
      ["vars/bucket/job/other", "k", false, false, false, false],
      ["vars/bucket/job/database", "k", false, false, false, false],
      ["maand/job/api/worker/10.0.0.1", "k", true, false, false, false],
      ["maand/job/api/worker/10.0.0.2", "k", false, false, false, false],
      ["maand/job/api", "version", true, false, false, false],
      ["maand/job/api", "rollout_order", true, true, false, false],
      ["vars/job/api", "k", true, true, true, false],
      ["secrets/job/api", "k", true, false, false, true],
      ["maand/job/database", "rollout_order", true, false, false, false],
      ["maand/job/database/worker/10.0.0.1", "k", false, false, false, false],
      ["vars/job/database", "k", true, false, false, false],
      ["secrets/job/database", "k", true, false, false, false],
      ["maand/job/cache", "k", false, false, false, false],
      ["maand/job/cache/worker/10.0.0.1", "k", false, false, false, false],
      ["vars/job/cache", "k", false, false, false, false],
      ["secrets/job/cache", "k", false, false, false, false],
    ];
    for (const [ns, key, read, put, del, secret] of rows) {
      assert.equal(allowed(api, "read", ns, key), read, `read ${ns}`);
      assert.equal(allowed(api, "put", ns, key), put, `put ${ns} ${key}`);
      assert.equal(allowed(api, "delete", ns, key), del, `delete ${ns} ${key}`);
      assert.equal(allowed(api, "putSecret", ns, key), secret, `putSecret ${ns}`);
      assert.equal(allowed(api, "deleteSecret", ns, key), secret, `deleteSecret ${ns}`);
    }
  });

  it("rollout_order only on pre_deploy and cli; no writes at all on health_check", () => {
    for (const event of ["pre_deploy", "cli"]) assert.ok(allowed({ ...api, event }, "put", "maand/job/api", "rollout_order"));
    for (const event of ["post_deploy", "post_build", "job_control", "after_allocation_started", "after_allocation_stopped"]) {
      assert.ok(!allowed({ ...api, event }, "put", "maand/job/api", "rollout_order"), event);
      assert.ok(allowed({ ...api, event }, "put", "vars/job/api", "k"), event);
    }
    const hc = { ...api, event: "health_check" };
    assert.throws(() => authorizeKv(hc, "put", "vars/job/api", "k", upstream), HealthCheckWriteDenied);
    assert.throws(() => authorizeKv(hc, "deleteSecret", "nonsense", "k", upstream), HealthCheckWriteDenied);
    assert.ok(allowed(hc, "read", "secrets/job/api"));
  });

  it("asks for upstream jobs only when reading another job's namespace", () => {
    let asked = 0;
    const counting = () => {
      asked++;
      return ["database"];
    };
    authorizeKv(api, "read", "vars/job/api", "k", counting);
    authorizeKv(api, "read", "maand/bucket", "k", counting);
    assert.equal(asked, 0);
    authorizeKv(api, "read", "vars/job/database", "k", counting);
    assert.equal(asked, 1);
  });

  it("every refusal says which rule refused it and the fix", () => {
    const reason = (who: KvPrincipal, op: KvOperation, ns: string, key = "k"): string => {
      try {
        authorizeKv(who, op, ns, key, upstream);
      } catch (e) {
        if (e instanceof NamespaceDenied) return e.reason;
        throw e;
      }
      return "allowed";
    };
    assert.match(reason(api, "read", "vars/job/cache"), /^vars\/job\/cache is readable only when a hook of job api declares a demand on job cache \(add "demands": \{"job": "cache"/);
    assert.match(reason(api, "read", "vars/job/cache"), /workspace\/jobs\/api\/manifest\.json, then run maand build\)$/);
    assert.equal(reason(api, "read", "maand/worker/10.0.0.2"), "maand/worker/10.0.0.2 belongs to worker 10.0.0.2; this hook runs for 10.0.0.1 and reads only its own worker's keys");
    assert.equal(reason(api, "read", "vars/bucket/job/web"), "vars/bucket/job/web is job web's; a hook reads only its own job's vars/bucket/job/api");
    assert.match(reason(api, "read", "nonsense/x"), /^nonsense\/x is not a maand KV namespace; expected one of/);
    assert.match(reason(api, "list", "vars/bucket"), /^GET \/kv\/keys lists only this job's vars\/job\/api and secrets\/job\/api/);
    assert.match(reason(api, "put", "secrets/job/api"), /^secrets are written and deleted with PUT\/DELETE \/kv\/secret/);
    assert.equal(reason({ ...api, event: "post_deploy" }, "put", "maand/job/api", "rollout_order"), "rollout_order may be written by pre_deploy and cli hooks only; this hook runs for post_deploy");
    assert.match(reason(api, "put", "maand/job/api", "version"), /^PUT \/kv writes only vars\/job\/api \(and rollout_order in maand\/job\/api on pre_deploy or cli\); maand\/job\/api is read-only for hooks$/);
    assert.match(reason(api, "put", "vars/job/database"), /^a hook writes only its own job's namespaces/);
    assert.match(reason(api, "putSecret", "vars/job/api"), /^PUT\/DELETE \/kv\/secret write only secrets\/job\/api/);
  });

  it("classifies namespaces in one place: owner, secret, certificate key, build-owned", () => {
    assert.deepEqual(namespaceOwner("maand/job/api/worker/10.0.0.1"), { job: "api", worker: "10.0.0.1" });
    assert.deepEqual(namespaceOwner("maand/worker/10.0.0.1/tags"), { worker: "10.0.0.1" });
    assert.deepEqual(namespaceOwner("vars/bucket/job/web"), { job: "web" });
    assert.deepEqual(namespaceOwner("vars/bucket"), {});
    assert.deepEqual(namespaceOwner("nonsense/x"), {});
    assert.ok(isCertPrivateKey("maand/job/api/worker/10.0.0.1", "certs/server.key"));
    for (const [ns, key] of [["maand/job/api/worker/10.0.0.1", "certs/server.crt"], ["maand/job/api", "certs/server.key"], ["maand/job/api/worker/10.0.0.1", "certs/a/b.key"], ["maand/job/api/worker/10.0.0.1", "certs/.key"]]) {
      assert.ok(!isCertPrivateKey(ns!, key!), `${ns} ${key}`);
    }
    assert.ok(isEncryptedAtRest("secrets/job/api", "x") && isEncryptedAtRest("maand/job/api/worker/10.0.0.1", "certs/s.key"));
    assert.ok(!isEncryptedAtRest("vars/job/api", "certs/s.key"));
    const jobs = new Set(["api"]);
    for (const ns of ["maand/bucket", "maand/job/api", "vars/bucket", "vars/bucket/job/api", "vars/job/gone"]) assert.ok(isBuildOwned(ns, jobs), ns);
    for (const ns of ["vars/job/api", "secrets/job/api", "secrets/job/gone"]) assert.ok(!isBuildOwned(ns, jobs), ns);
  });

  it("one rollout_order rule: what a PUT accepts (trimmed, stored canonical) and when a stored list applies", () => {
    const workers = ["10.0.0.1", "10.0.0.2"];
    assert.equal(acceptRolloutOrder("api", "10.0.0.2,10.0.0.1", workers), "10.0.0.2,10.0.0.1");
    assert.equal(acceptRolloutOrder("api", "10.0.0.2", workers), "10.0.0.2", "a subset: the job's worker sets differ per event");
    assert.equal(acceptRolloutOrder("api", " 10.0.0.2 , 10.0.0.1", workers), "10.0.0.2,10.0.0.1", "trimmed the same way the planner reads it");
    for (const [bad, why] of [["", /is empty/], [",", /empty entry/], ["10.0.0.1,,10.0.0.2", /empty entry/], ["10.0.0.1,10.0.0.1", /repeats 10\.0\.0\.1/], ["10.0.0.3", /not a worker of job api/]] as const) {
      assert.throws(() => acceptRolloutOrder("api", bad, workers), (e: unknown) => e instanceof InvalidRolloutOrder && why.test(e.message), JSON.stringify(bad));
    }
    // Whatever a PUT stored, the planner reads the same list from it.
    for (const value of ["10.0.0.2,10.0.0.1", " 10.0.0.2 , 10.0.0.1"]) {
      const stored = acceptRolloutOrder("api", value, workers);
      assert.deepEqual(resolveRolloutOrder(workers, stored), { order: ["10.0.0.2", "10.0.0.1"], source: "kv" });
      assert.deepEqual(parseRolloutOrder(value).workers, parseRolloutOrder(stored).workers);
    }
  });

  it("a stored list that does not name exactly the worker set is ignored, and reported only when that changes the order", () => {
    const set = ["10.0.0.1", "10.0.0.2", "10.0.0.3"];
    // build's reset value (active workers, catalog order) with .2 disabled: ignoring it changes nothing
    assert.deepEqual(resolveRolloutOrder(set, "10.0.0.1,10.0.0.3"), { order: set, source: "default" });
    // an operator's own partial order is reported
    assert.deepEqual(resolveRolloutOrder(set, "10.0.0.3,10.0.0.1").ignored, { stored: ["10.0.0.3", "10.0.0.1"], reason: "lists 2 of 3 workers, missing 10.0.0.2" });
    assert.equal(resolveRolloutOrder(set, "10.0.0.1,10.0.0.1,10.0.0.2,10.0.0.3").ignored?.reason, "repeats 10.0.0.1");
    assert.equal(resolveRolloutOrder(set, "").ignored?.reason, "is empty");
    assert.deepEqual(resolveRolloutOrder([], ""), { order: [], source: "kv" });
  });
});
