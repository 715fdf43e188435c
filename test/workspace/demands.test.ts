import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { workspaceBucket, assertProblem, HOOK_PY } from "./helpers.js";
import type { JobFixture } from "../helpers/bucket.js";
import { orderByDemands } from "../../server/workspace/deployment-seq.js";

const mf = (job: string) => `workspace/jobs/${job}/manifest.json`;

/** A job with one hook per entry of `hooks` (name -> demands or undefined). */
function job(version: string | undefined, hooks: Record<string, unknown>): JobFixture {
  const manifest: Record<string, unknown> = { hooks: {} };
  if (version !== undefined) manifest.version = version;
  const files: Record<string, string> = {};
  for (const [name, demands] of Object.entries(hooks)) {
    (manifest.hooks as Record<string, unknown>)[name] = { executed_on: ["cli"], ...(demands === undefined ? {} : { demands }) };
    files[`_hooks/${name}.py`] = HOOK_PY;
  }
  return { manifest, files };
}

describe("readWorkspace: hook demands", () => {
  let b: Awaited<ReturnType<typeof workspaceBucket>>;
  before(async () => (b = await workspaceBucket()));
  after(() => b.cleanup());

  it("treats empty demands as none", () => {
    b.write({ jobs: { api: job(undefined, { hook_a: {}, hook_b: { job: "", hook: "" } }) } });
    const [api] = b.read().jobs;
    assert.deepEqual(api.hooks.map((h) => h.demands), [undefined, undefined]);
    assert.equal(api.deploymentSeq, 0);
  });

  it("rejects partial demands", () => {
    b.write({
      jobs: {
        db: job("1.0.0", { hook_schema: undefined }),
        api: job("1.0.0", { hook_a: { job: "db" }, hook_b: { hook: "hook_schema" }, hook_c: { job: "", hook: "", config: { min_version: "1" } } }),
      },
    });
    const err = b.fail();
    assertProblem(err, mf("api"), "$.hooks.hook_a.demands.hook", ["is empty while demands.job is set", "both job and hook, or neither"]);
    assertProblem(err, mf("api"), "$.hooks.hook_b.demands.job", ["is empty while demands.hook is set"]);
    assertProblem(err, mf("api"), "$.hooks.hook_c.demands.config", ["without a demanded job and hook"], { min_version: "1" });
    assert.equal(err.problems.length, 3, err.message);
  });

  it("rejects self-reference, unknown jobs and unknown hooks", () => {
    b.write({
      jobs: {
        database: job("1.0.0", { hook_schema: undefined }),
        api: job("1.0.0", {
          hook_self: { job: "api", hook: "hook_self" },
          hook_typo: { job: "databse", hook: "hook_schema" },
          hook_nohook: { job: "database", hook: "hook_shema" },
          hook_badname: { job: "database", hook: "schema" },
        }),
      },
    });
    const err = b.fail();
    assertProblem(err, mf("api"), "$.hooks.hook_self.demands.job", ["own job", "cannot demand itself"], "api");
    assertProblem(err, mf("api"), "$.hooks.hook_typo.demands.job", ["expected a job in workspace/jobs/", 'did you mean "database"'], "databse");
    assertProblem(err, mf("api"), "$.hooks.hook_nohook.demands.hook", ["hook defined by job database", "database defines hook_schema", 'did you mean "hook_schema"'], "hook_shema");
    assertProblem(err, mf("api"), "$.hooks.hook_badname.demands.hook", ['hook name starting with "hook_"'], "schema");
    assert.equal(err.problems.length, 4, err.message);
  });

  it("checks min_version and max_version against the upstream version", () => {
    b.write({
      jobs: {
        database: job("1.5.0", { hook_schema: undefined }),
        api: job("1.0.0", {
          hook_low: { job: "database", hook: "hook_schema", config: { min_version: "2.0" } },
          hook_high: { job: "database", hook: "hook_schema", config: { max_version: "v1.4.9" } },
          hook_ok: { job: "database", hook: "hook_schema", config: { min_version: "1", max_version: "1.5.0" } },
          hook_bad: { job: "database", hook: "hook_schema", config: { min_version: "newest", other: 1 } },
          hook_inverted: { job: "database", hook: "hook_schema", config: { min_version: "2.0.0", max_version: "1.0.0" } },
        }),
      },
    });
    const err = b.fail();
    assertProblem(err, mf("api"), "$.hooks.hook_low.demands.config.min_version", ["database's version 1.5.0", ">= min_version"], "2.0.0");
    assertProblem(err, mf("api"), "$.hooks.hook_high.demands.config.max_version", ["database's version 1.5.0", "<= max_version"], "1.4.9");
    assertProblem(err, mf("api"), "$.hooks.hook_bad.demands.config.min_version", ["semver-like version"], "newest");
    assertProblem(err, mf("api"), "$.hooks.hook_inverted.demands.config.max_version", ["below min_version", "max_version >= min_version"], "1.0.0");
    assert.equal(err.problems.length, 4, err.message);
  });

  it("keeps every other config key as written (free-form: feature flags, schema versions)", () => {
    const config = { min_version: "v1", flag: "x", schema: { version: 3, tables: ["a", "b"] }, enabled: true, n: null };
    b.write({ jobs: { database: job("1.5.0", { hook_schema: undefined }), api: job("1.0.0", { hook_m: { job: "database", hook: "hook_schema", config } }) } });
    const hook = b.read().jobs.find((j) => j.name === "api")!.hooks.find((h) => h.name === "hook_m")!;
    assert.deepEqual(hook.demands, { job: "database", hook: "hook_schema", config: { ...config, min_version: "1.0.0" } });
  });

  it("requires both jobs in a demand relation to declare a version", () => {
    b.write({ jobs: { database: job(undefined, { hook_schema: undefined }), api: job(undefined, { hook_m: { job: "database", hook: "hook_schema" } }) } });
    const err = b.fail();
    assertProblem(err, mf("api"), "$.version", ["is missing", "explicit version", "hook_m demands database"]);
    assertProblem(err, mf("database"), "$.version", ["is missing", "explicit version", "api.hook_m demands it"]);
    assert.equal(err.problems.length, 2, err.message);
  });

  it("rejects cycles, naming them", () => {
    b.write({
      jobs: {
        a: job("1.0.0", { hook_a: { job: "b", hook: "hook_b" } }),
        b: job("1.0.0", { hook_b: { job: "a", hook: "hook_a" } }),
        x: job("1.0.0", { hook_x: { job: "y", hook: "hook_y" } }),
        y: job("1.0.0", { hook_y: { job: "z", hook: "hook_z" } }),
        z: job("1.0.0", { hook_z: { job: "x", hook: "hook_x" } }),
      },
    });
    const err = b.fail();
    assertProblem(err, mf("a"), "$.hooks.hook_a.demands.job", ["demand cycle a -> b -> a", "without cycles"], "b");
    assertProblem(err, mf("x"), "$.hooks.hook_x.demands.job", ["demand cycle x -> y -> z -> x"], "y");
    assert.equal(err.problems.length, 2, err.message);
  });

  it("cross-checks a demand on a hook whose script is missing (one problem, not two)", () => {
    b.write({
      jobs: {
        database: { manifest: { version: "1.0.0", hooks: { hook_schema: { executed_on: ["cli"] } } } },
        api: job("1.0.0", { hook_m: { job: "database", hook: "hook_schema" } }),
      },
    });
    const err = b.fail();
    assertProblem(err, mf("database"), "$.hooks.hook_schema", ["has no script"]);
    assert.equal(err.problems.length, 1, err.message);
  });

  it("computes deployment_seq upstream first with max depth", () => {
    const d = (j: string, h: string) => ({ job: j, hook: h });
    b.write({
      jobs: {
        base: job("1.0.0", { hook_base: undefined }),
        mid: job("1.0.0", { hook_mid: d("base", "hook_base") }),
        top: job("1.0.0", { hook_t1: d("mid", "hook_mid"), hook_t2: d("base", "hook_base") }),
        side: job("1.0.0", { hook_side: d("base", "hook_base") }),
        alone: job(undefined, {}),
      },
    });
    assert.deepEqual(Object.fromEntries(b.read().jobs.map((j) => [j.name, j.deploymentSeq])), { alone: 0, base: 0, mid: 1, side: 1, top: 2 });
  });

  it("orders a long chain and many jobs quickly", () => {
    const names = Array.from({ length: 2000 }, (_, i) => `j${i}`);
    const ups = new Map(names.map((n, i) => [n, i > 0 ? [names[i - 1]] : []]));
    const { seq, cycles } = orderByDemands(names, ups);
    assert.equal(seq.get("j1999"), 1999);
    assert.deepEqual(cycles, []);
  });
});
