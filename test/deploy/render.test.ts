import { afterEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { writeWorkspace, type WorkspaceFixture } from "../helpers/bucket.js";
import { openTestBucket, threeByThree, type OpenTestBucket } from "../build/fixture.js";
import { runBuild } from "../../server/build/run.js";
import { loadDeployInput } from "../../server/deploy/plan-input.js";
import { templateRender } from "../../server/deploy/render.js";
import { deployRenderStep } from "../../server/deploy/render-step.js";
import { jobSyncFiles, stageAllocation } from "../../server/deploy/stage.js";
import { unrenderedFiles } from "../../server/deploy/template-files.js";
import { TemplateRenderFailed } from "../../server/deploy/template-errors.js";
import { contentHash, UNRENDERED_HASH } from "../../server/deploy/content.js";
import { listAllocations } from "../../server/store/catalog.js";

// The render step in-process, against a real catalog and KV (no SSH): what deploy and the
// planner hash; test/deploy/templates.test.ts renders on real workers.

/** threeByThree with templates: api reads its index and bucket-job vars; cache reads db, which its hook demands. */
function templated(change: (ws: WorkspaceFixture) => void = () => {}): WorkspaceFixture {
  const ws = threeByThree();
  ws.jobs!.api!.files!["conf/api.conf.tpl"] = "index={{ .AllocationIndex }} replicas={{ get \"vars/bucket/job/api\" \"replicas\" }}\n";
  ws.jobs!.cache!.files!["cache.conf.tpl"] = "db={{ get \"maand/job/db\" \"version\" }} {{ range keys \"vars/bucket\" }}{{ . }};{{ end }}\n";
  change(ws);
  return ws;
}

describe("deploy's render step (issue 12 point 5)", () => {
  let b: OpenTestBucket | undefined;
  afterEach(() => {
    b?.cleanup();
    b = undefined;
  });

  const build = async (ws: WorkspaceFixture) => {
    b ??= await openTestBucket();
    writeWorkspace(b.root, ws);
    await runBuild(b.ctx);
    return b.ctx;
  };
  const rendered = (render: ReturnType<typeof templateRender>, job: string, ip: string, path: string) => {
    const { db, kv } = b!.ctx;
    const a = listAllocations(db, { jobs: [job], workers: [ip] })[0]!;
    const staged = stageAllocation({ kv, render }, job, a, jobSyncFiles(db, job));
    assert.ok(!staged.files.some((f) => f.path.endsWith(".tpl")), "no .tpl is synced");
    return staged.files.find((f) => f.path === path)?.content.toString("utf8");
  };

  it("a catalog without templates gets the pass-through step: the template engine is never loaded", async () => {
    const ctx = await build(threeByThree());
    assert.equal(await deployRenderStep(ctx.db), unrenderedFiles);
    const ctx2 = await build(templated());
    assert.notEqual(await deployRenderStep(ctx2.db), unrenderedFiles);
  });

  it(".AllocationIndex is the hooks' ALLOCATION_INDEX (build's <job>_allocation_index), also after a worker left", async () => {
    let ctx = await build(templated());
    let render = templateRender(ctx.db);
    for (const ip of ["10.0.0.1", "10.0.0.2"]) {
      const index = ctx.kv.get(`maand/job/api/worker/${ip}`, "api_allocation_index");
      assert.equal(rendered(render, "api", ip, "conf/api.conf"), `index=${index} replicas=2\n`);
    }
    ctx = await build(templated((ws) => (ws.workers = ws.workers!.slice(1))));
    render = templateRender(ctx.db);
    assert.equal(ctx.kv.get("maand/job/api/worker/10.0.0.2", "api_allocation_index"), "0");
    assert.equal(rendered(render, "api", "10.0.0.2", "conf/api.conf"), "index=0 replicas=2\n");
  });

  it("reads follow the hook rules: an upstream job a hook demands is readable, any other job's namespace is an error naming it", async () => {
    const ctx = await build(templated((ws) => (ws.jobs!.db!.files!["db.conf.tpl"] = '{{ get "vars/job/api" "port" }}\n')));
    const render = templateRender(ctx.db);
    assert.equal(rendered(render, "cache", "10.0.0.3", "cache.conf"), "db=2.0.0 env;region;\n");
    assert.throws(
      () => rendered(render, "db", "10.0.0.2", "db.conf"),
      (e: unknown) => e instanceof TemplateRenderFailed && e.namespace === "vars/job/api" && /db\.conf\.tpl:1:4: .*namespace "vars\/job\/api" may not be read/.test(e.message),
    );
  });

  it("the planner hashes the rendered output; an allocation that does not render is planned as changed, with its error", async () => {
    const ctx = await build(templated((ws) => (ws.jobs!.db!.files!["db.conf.tpl"] = '{{ get "vars/job/db" "nope" }}\n')));
    const render = templateRender(ctx.db);
    const input = loadDeployInput(ctx, {}, { render });
    const api = input.jobs.find((j) => j.job === "api")!;
    for (const a of api.allocations) {
      const staged = stageAllocation({ kv: ctx.kv, render }, "api", a, jobSyncFiles(ctx.db, "api"));
      assert.equal(a.new_hash, contentHash(staged.files));
    }
    assert.equal(api.template_errors, undefined);
    const db = input.jobs.find((j) => j.job === "db")!;
    assert.deepEqual(db.allocations.map((a) => a.new_hash), [UNRENDERED_HASH, UNRENDERED_HASH]);
    assert.deepEqual(db.template_errors!.map((e) => [e.worker_ip, e.file, e.line, e.column, e.function, e.key]), [
      ["10.0.0.2", "db.conf.tpl", 1, 4, "get", "nope"],
      ["10.0.0.3", "db.conf.tpl", 1, 4, "get", "nope"],
    ]);
  });
  it("a template Go's parser rejects is an error of its job naming file, line and column, like an execution error", async () => {
    const ctx = await build(templated((ws) => (ws.jobs!.db!.files!["conf/db.conf.tpl"] = "a\nport={{ if }}\n")));
    const db = loadDeployInput(ctx, {}, { render: templateRender(ctx.db) }).jobs.find((j) => j.job === "db")!;
    assert.deepEqual(db.allocations.map((a) => a.new_hash), [UNRENDERED_HASH, UNRENDERED_HASH]);
    const e = db.template_errors![0]!;
    assert.deepEqual([e.file, e.line], ["conf/db.conf.tpl", 2]);
    assert.match(String(e.message), /conf\/db\.conf\.tpl:2:\d*:? ?.*missing value for if/);
  });
});
