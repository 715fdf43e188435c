import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { MaandError } from "../../server/errors.js";
import { parseTemplate, renderTemplate, TemplateError, type TemplateData, type TemplateKv } from "../../server/templates/render.js";

const data: TemplateData = {
  WorkerIP: "10.0.0.7",
  WorkerID: "w-7",
  Job: "app",
  AllocationID: "a-7",
  AllocationIndex: 3,
  CurrentVersion: "1.0.0",
  NewVersion: "1.1.0",
  Labels: ["web", "db"],
  BucketPath: "/b",
  JobPath: "/b/jobs/app",
};

function memoryKv(values: Record<string, Record<string, string>>, denied: string[] = []): TemplateKv & { reads: string[] } {
  const reads: string[] = [];
  const check = (ns: string) => {
    if (denied.includes(ns)) throw new MaandError(`job app may not read ${ns}`);
  };
  return {
    reads,
    get: (ns, key) => (check(ns), reads.push(`${ns}/${key}`), values[ns]?.[key]),
    keys: (ns) => (check(ns), Object.keys(values[ns] ?? {})),
  };
}

const kv = memoryKv({ "vars/job/app": { port: "8080" }, "secrets/job/app": { pw: "hunter2-secret" }, "secrets/job/db": { root: "r00t-secret" } }, ["secrets/job/db"]);

function thrown(f: () => unknown): TemplateError {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof TemplateError, `expected a TemplateError, got ${String(e)}`);
    return e;
  }
  assert.fail("expected an error");
}

describe("templates: public API", () => {
  it("parses once and executes per allocation, each execution independent", () => {
    const t = parseTemplate('{{$n := 0}}{{range .Labels}}{{$n = add $n 1}}{{end}}{{.WorkerIP}}:{{get "vars/job/app" "port"}} n={{$n}} i={{.AllocationIndex}}\n', "conf/app.conf.tpl");
    assert.equal(t.name, "conf/app.conf.tpl");
    const outputs = ["10.0.0.1", "10.0.0.2"].map((ip, i) => t.execute({ data: { ...data, WorkerIP: ip, AllocationIndex: i }, kv, ownJob: "app" }));
    assert.deepEqual(outputs, ["10.0.0.1:8080 n=2 i=0\n", "10.0.0.2:8080 n=2 i=1\n"]);
  });

  it("renderTemplate parses and executes in one call", () => {
    assert.equal(renderTemplate("{{.Job}}@{{.WorkerID}}", { name: "x.tpl", data, kv, ownJob: "app" }), "app@w-7");
  });

  it("a missing key is an error naming the file, line, column, function, key and namespace", () => {
    const e = thrown(() => renderTemplate('port: 1\nhost: {{ get "vars/job/app" "host" }}\n', { name: "conf/app.yml.tpl", data, kv, ownJob: "app" }));
    assert.equal(e.message, 'template: conf/app.yml.tpl:2:10: executing "conf/app.yml.tpl" at <get "vars/job/app" "host">: error calling get: key "host" not found in namespace "vars/job/app"');
    assert.deepEqual([e.file, e.template, e.line, e.column, e.function, e.key, e.namespace], ["conf/app.yml.tpl", "conf/app.yml.tpl", 2, 10, "get", "host", "vars/job/app"]);
    assert.ok(e instanceof MaandError, "the CLI prints it as a user error");
  });

  it("an error inside a define names the define and the file's line", () => {
    const e = thrown(() => renderTemplate('{{define "port"}}\n{{get "vars/job/app" "nope"}}{{end}}{{template "port"}}', { name: "t.tpl", data, kv, ownJob: "app" }));
    assert.equal(e.template, "port");
    assert.equal(e.line, 2);
    assert.match(e.message, /^template: t\.tpl:2:3: executing "port" at/);
  });

  it("parse errors carry line and column too", () => {
    const e = thrown(() => parseTemplate("a\nb {{ nosuch 1 }}", "t.tpl"));
    assert.equal(e.message, 'template: t.tpl:2:6: function "nosuch" not defined');
    assert.deepEqual([e.line, e.column, e.template], [2, 6, undefined]);
  });

  it("getSecret reads the own job's namespace; a secret value never appears in an error", () => {
    assert.equal(renderTemplate('{{getSecret "pw"}}', { name: "t", data, kv, ownJob: "app" }), "hunter2-secret");
    for (const source of ['{{getSecret "pw" | int}}', '{{range getSecret "pw"}}{{end}}', '{{if eq (getSecret "pw") 1}}{{end}}', '{{ $s := getSecret "pw" }}{{ len $s.x }}', '{{get "secrets/job/app" "pw" | int}}', '{{getOptional "secrets/job/app" "pw" | add 1}}']) {
      const e = thrown(() => renderTemplate(source, { name: "t", data, kv, ownJob: "app" }));
      assert.ok(!e.message.includes("hunter2"), e.message);
      assert.ok(!String(e.context).includes("hunter2"));
      assert.ok(!String((e.cause as Error | undefined)?.message).includes("hunter2"));
    }
    const e = thrown(() => renderTemplate('{{getSecret "pw" | int}}', { name: "t", data, kv, ownJob: "app" }));
    assert.match(e.message, /error calling int: "\*\*\*" is not an integer$/);
  });

  it("a namespace the job may not read is an error naming it, keeping the store's error as cause", () => {
    for (const source of ['{{get "secrets/job/db" "root"}}', '{{getOptional "secrets/job/db" "root"}}', '{{getSecret "secrets/job/db" "root"}}', '{{keys "secrets/job/db"}}']) {
      const e = thrown(() => renderTemplate(source, { name: "t", data, kv, ownJob: "app" }));
      assert.match(e.message, /namespace "secrets\/job\/db" may not be read: job app may not read secrets\/job\/db$/);
      assert.equal(e.namespace, "secrets/job/db");
      assert.ok(e.cause instanceof MaandError);
    }
  });

  it("only the documented fields exist on the dot", () => {
    const e = thrown(() => renderTemplate("{{.Tags}}", { name: "t", data, kv, ownJob: "app" }));
    assert.match(e.message, /can't evaluate field Tags in type main\.Data$/);
    assert.equal(renderTemplate("{{.}}", { name: "t", data, kv, ownJob: "app" }), "{10.0.0.7 w-7 app a-7 3 1.0.0 1.1.0 [web db] /b /b/jobs/app}");
  });

  it("functions not taken are not called: a dead branch reads nothing", () => {
    const k = memoryKv({});
    assert.equal(renderTemplate('{{if false}}{{get "a" "b"}}{{end}}{{and 0 (get "c" "d")}}', { name: "t", data, kv: k, ownJob: "app" }), "0");
    assert.deepEqual(k.reads, []);
  });

  it("infinite {{template}} recursion fails cleanly", () => {
    const e = thrown(() => renderTemplate('{{define "r"}}{{template "r" .}}{{end}}{{template "r" .}}', { name: "t", data, kv, ownJob: "app" }));
    assert.match(e.message, /exceeded maximum template depth \(1000\)$/);
  });

  it("nesting too deep for the JS stack is a template error, not a crash", () => {
    const depth = 20000;
    const e = thrown(() => parseTemplate("{{" + "(".repeat(depth) + "1" + ")".repeat(depth) + "}}", "deep.tpl"));
    assert.equal(e.file, "deep.tpl");
  });
});
