import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { testWorkersUnavailable } from "../workers/workers.js";
import { recorderPy } from "../hooks/fixture.js";
import type { WorkspaceFixture } from "../helpers/bucket.js";
import { deployBucket, recordingJob, type DeployBucket } from "./fixture.js";
import { bucketDir, jobDir } from "../../server/workers/layout.js";
import { filesUnder } from "../helpers/files.js";

const skip = testWorkersUnavailable();

const DB_PASSWORD = "pw-Zq81x-not-for-logs";
const TOKEN = "tok-SECRET-991";

/** Every documented template form (SPEC §12, issue 12 point 6), rendered per allocation. */
const APP_CONF_TPL = `{{- /* every documented form: a comment, trimmed */ -}}
{{ define "line" }}[{{ . }}]{{ end -}}
{{ define "outer" }}<{{ template "line" . }}>{{ end -}}
job={{ .Job }} ip={{ .WorkerIP }} index={{ .AllocationIndex }}
ids={{ .AllocationID }} {{ .WorkerID }}
versions={{ .CurrentVersion }}->{{ .NewVersion }}
paths={{ .BucketPath }} {{ .JobPath }}
labels={{ join .Labels "," }} first={{ index .Labels 0 }} count={{ len .Labels }}
{{ $port := get "vars/job/web" "port" -}}
port={{ $port }} next={{ add $port 1 }} sub={{ sub 10 3 }} mul={{ mul 6 7 }} div={{ div 7 2 }} min={{ min 3 9 }} max={{ max 3 9 }} int={{ int "42" }}
{{ $x := 1 }}{{ $x = 2 }}x={{ $x }}
{{ if eq .AllocationIndex 0 }}leader{{ else if gt .AllocationIndex 5 }}big{{ else }}follower{{ end }}
peers={{ range $i, $p := split (get "vars/job/web" "peers") "," }}{{ if $i }},{{ end }}{{ $i }}:{{ upper $p }}{{ end }}
keys={{ range keys "vars/job/web" }}{{ . }} {{ end }}
bucketjob={{ range keys "vars/bucket/job/web" }}{{ . }}{{ else }}none{{ end }}
{{ with getOptional "vars/job/web" "missing" }}has {{ . }}{{ else }}no missing{{ end }}
{{ with get "vars/bucket" "region" }}region={{ lower . }}{{ end }}
{{ printf "%s:%d %q %05d %.2f %x %v" "a" 5 "q" 42 3.14159 255 true }}
{{ template "outer" (trim "  spaced  ") }}
password={{ getSecret "db_password" }} same={{ getSecret "secrets/job/web" "db_password" }}
worker_ip={{ get (printf "maand/worker/%s" .WorkerIP) "worker_ip" }}
end {{- " trimmed" }}
`;

interface Alloc {
  ip: string;
  index: number;
  allocId: string;
  workerId: string;
  labels: string[];
}

function expectedAppConf(bucketId: string, a: Alloc, o: { current: string; port: number }): string {
  return [
    `job=web ip=${a.ip} index=${a.index}`,
    `ids=${a.allocId} ${a.workerId}`,
    `versions=${o.current}->1.0.0`,
    `paths=${bucketDir(bucketId)} ${jobDir(bucketId, "web")}`,
    `labels=${a.labels.join(",")} first=${a.labels[0]} count=${a.labels.length}`,
    `port=${o.port} next=${o.port + 1} sub=7 mul=42 div=3 min=3 max=9 int=42`,
    "x=2",
    a.index === 0 ? "leader" : "follower",
    "peers=0:A,1:B,2:C",
    "keys=name peers port ",
    "bucketjob=none",
    "no missing",
    "region=eu",
    'a:5 "q" 00042 3.14 ff true',
    "<[spaced]>",
    `password=${DB_PASSWORD} same=${DB_PASSWORD}`,
    `worker_ip=${a.ip}`,
    "end trimmed",
    "",
  ].join("\n");
}

/** A pre_deploy hook that writes a secret with the SDK and records whether its staged tree kept the .tpl. */
const secretHook = (key: string, value: string, tpl: string) =>
  recorderPy(`
from maand import put_job_secret
put_job_secret(${JSON.stringify(key)}, ${JSON.stringify(value)}).raise_for_status()
with open(os.path.join(os.environ["BUCKET_ROOT"], "record.jsonl"), "a") as f:
    f.write(json.dumps(dict(kind="staged", job=os.environ["JOB"], tpl=os.path.exists(${JSON.stringify(tpl)}), rendered=os.path.exists(${JSON.stringify(tpl.slice(0, -4))}))) + "\\n")
`);

function workspace(b: DeployBucket, o: { port: number; broken: boolean }): WorkspaceFixture {
  const failing: WorkspaceFixture["jobs"] = {
    broken: recordingJob(b.recordFile, { files: { "broken.conf.tpl": 'first line\nvalue={{ get "vars/job/broken" "nope" }}\n' } }),
    leaky: recordingJob(b.recordFile, {
      py: ["pre_deploy"],
      files: { "_hooks/hook_py.py": secretHook("token", TOKEN, "leaky.conf.tpl"), "leaky.conf.tpl": '{{ $t := getSecret "token" }}n={{ int $t }}\n' },
    }),
    denied: recordingJob(b.recordFile, { files: { "denied.conf.tpl": 'port={{ get "vars/job/web" "port" }}\n' } }),
  };
  return {
    workers: [
      { host: b.ips[0], labels: ["web"] },
      { host: b.ips[1], labels: [] },
    ],
    bucketConf: 'region = "EU"\n',
    jobs: {
      web: {
        ...recordingJob(b.recordFile, {
          py: ["pre_deploy"],
          files: {
            "_hooks/hook_py.py": secretHook("db_password", DB_PASSWORD, "conf/app.conf.tpl"),
            "conf/app.conf.tpl": { content: APP_CONF_TPL, mode: 0o640 },
            "scripts/run.sh.tpl": { content: "#!/bin/sh\necho {{ .Job }}-{{ .AllocationIndex }}\n", mode: 0o755 },
          },
        }),
        vars: `name = "web"\nport = ${o.port}\npeers = "a,b,c"\n`,
      },
      plain: recordingJob(b.recordFile),
      ...(o.broken ? failing : {}),
    },
  };
}

describe("deploy renders *.tpl per allocation on real workers (issue 12 points 5, 8)", { skip }, () => {
  let b: DeployBucket;
  let allocs: Alloc[];
  const actions = (r: ReturnType<DeployBucket["deploy"]>, job: string) =>
    r.plan!.waves.flatMap((w) => w.jobs).find((j) => j.job === job)!.allocations.map((a) => `${a.action} ${a.reason}`);
  const finalActions = (r: ReturnType<DeployBucket["deploy"]>, job: string) =>
    r.result!.steps.filter((s) => s.job === job && s.step === "target").map((s) => `${s.worker} ${s.name}`).sort();

  before(async () => {
    b = await deployBucket(2);
    b.build(workspace(b, { port: 8080, broken: true }));
    allocs = b.db((db) =>
      b.ips.map((ip, index) => {
        const a = db.prepare("SELECT alloc_id FROM allocations WHERE job = 'web' AND worker_ip = ?").get(ip) as { alloc_id: string };
        const w = db.prepare("SELECT worker_id FROM workers WHERE worker_ip = ?").get(ip) as { worker_id: string };
        return { ip, index, allocId: a.alloc_id, workerId: w.worker_id, labels: index === 0 ? ["web", "worker"] : ["worker"] };
      }),
    );
  });
  after(async () => {
    await b?.cleanup();
  });

  it("--dry-run renders with every sshd stopped: the plan marks the jobs, stderr names file:line:col and key or namespace, exit 1", async () => {
    const logins = b.ips.map((_ip, i) => b.set.acceptedLogins(i));
    await b.set.kill(0);
    await b.set.kill(1);
    try {
      const text = b.maand("deploy", "--dry-run");
      assert.equal(text.status, 1, text.stderr);
      assert.match(text.stdout, /job broken: templates do not render for /);
      assert.match(text.stderr, /job broken: template error on 127\.\d+\.\d+\.\d+: template: broken\.conf\.tpl:2:\d+: executing "broken\.conf\.tpl" at <get "vars\/job\/broken" "nope">: error calling get: key "nope" not found in namespace "vars\/job\/broken"; fix: set nope in workspace\/jobs\/broken\/vars\.toml/);
      assert.match(text.stderr, /job denied: .*denied\.conf\.tpl:1:\d+: .*namespace "vars\/job\/web" may not be read/);
      // web's secret comes from its pre_deploy hook, which a dry run does not run: said so.
      assert.match(text.stderr, /job web: .*conf\/app\.conf\.tpl:20:13: .*secret "db_password" not found in namespace "secrets\/job\/web"; fix: write db_password with put_job_secret in a pre_deploy hook/);
      assert.match(text.stderr, /job web has pre_deploy hooks: what they would write is not visible to a dry run/);
      assert.doesNotMatch(text.stderr, /job plain/);

      const json = b.maand("deploy", "--dry-run", "--json");
      assert.equal(json.status, 1);
      const plan = (JSON.parse(json.stdout) as { plan: { waves: Array<{ jobs: Array<{ job: string; template_errors?: Array<Record<string, unknown>> }> }> } }).plan;
      const broken = plan.waves.flatMap((w) => w.jobs).find((j) => j.job === "broken")!;
      assert.deepEqual(
        broken.template_errors!.map((e) => [e.worker_ip, e.file, e.line, e.function, e.key, e.namespace]),
        b.ips.map((ip) => [ip, "broken.conf.tpl", 2, "get", "nope", "vars/job/broken"]),
      );
      assert.equal(plan.waves.flatMap((w) => w.jobs).find((j) => j.job === "plain")!.template_errors, undefined);
      const err = JSON.parse(json.stderr) as { error: { code: string; detail: { jobs: Array<{ job: string }> } } };
      assert.equal(err.error.code, "PLANNED_TEMPLATE_ERRORS");
      assert.deepEqual(err.error.detail.jobs.map((j) => j.job).sort(), ["broken", "denied", "leaky", "web"]);
    } finally {
      await b.set.start(0);
      await b.set.start(1);
    }
    assert.deepEqual(b.ips.map((_ip, i) => b.set.acceptedLogins(i)), logins, "no worker was contacted");
  });

  it("a deploy renders on the workers (pre_deploy's secret included); failing templates fail only their jobs, before syncing them; no secret in errors or logs", () => {
    b.clearRecords();
    const r = b.deploy();
    assert.notEqual(r.status, 0);
    const status = Object.fromEntries(r.result!.jobs.map((j) => [j.job, j.status]));
    assert.deepEqual(status, { broken: "failed", denied: "failed", leaky: "failed", plain: "ok", web: "ok" });

    for (const a of allocs) {
      const conf = b.onWorker(a.index, "jobs/web/conf/app.conf");
      assert.equal(readFileSync(conf, "utf8"), expectedAppConf(b.bucketId, a, { current: "0.0.0", port: 8080 }));
      assert.equal(statSync(conf).mode & 0o777, 0o640, "the template's mode");
      assert.equal(readFileSync(b.onWorker(a.index, "jobs/web/scripts/run.sh"), "utf8"), `#!/bin/sh\necho web-${a.index}\n`);
      assert.equal(statSync(b.onWorker(a.index, "jobs/web/scripts/run.sh")).mode & 0o777, 0o755);
      assert.ok(!existsSync(b.onWorker(a.index, "jobs/web/conf/app.conf.tpl")), "the .tpl is not sent");
      assert.ok(!existsSync(b.onWorker(a.index, "jobs/web/scripts/run.sh.tpl")));
      assert.ok(existsSync(b.onWorker(a.index, "jobs/plain/app.conf")), "another job of the wave deployed");
      for (const job of ["broken", "leaky", "denied"]) assert.ok(!existsSync(b.onWorker(a.index, `jobs/${job}`)), `nothing of ${job} was synced`);
    }
    // Hook staging keeps templates as they are: the hook saw the .tpl, not a rendered file.
    const staged = b.records().filter((x) => x.kind === "staged");
    assert.equal(staged.length, 4);
    for (const s of staged) assert.deepEqual([s.tpl, s.rendered], [true, false]);

    const error = (job: string) => r.result!.jobs.find((j) => j.job === job)!.error!;
    assert.match(error("broken"), /^template error on 127\.\d+\.\d+\.\d+: template: broken\.conf\.tpl:2:10: executing "broken\.conf\.tpl" at <get "vars\/job\/broken" "nope">: error calling get: key "nope" not found/);
    assert.match(error("denied"), /denied\.conf\.tpl:1:9: .*error calling get: namespace "vars\/job\/web" may not be read: vars\/job\/web is readable only when a hook of job denied declares a demand on job web/);
    assert.match(error("leaky"), /leaky\.conf\.tpl:1:\d+: executing "leaky\.conf\.tpl" at <int \$t>: error calling int: "\*\*\*" is not an integer/);
    assert.match(r.stderr, /job broken: template error on .*broken\.conf\.tpl:2:10/);

    const everything = [r.stdout, r.stderr, ...filesUnder(join(b.root, "logs")).map((f) => readFileSync(f, "utf8"))].join("\n");
    assert.ok(!everything.includes(TOKEN), "the secret read by a failing template is in no output and no log");
    assert.ok(!everything.includes(DB_PASSWORD), "a rendered secret is in no output and no log");
  });

  it("redeploys: .CurrentVersion changes once after the promote, then all skip; a changed KV value a template reads restarts", () => {
    b.build(workspace(b, { port: 8080, broken: false }));
    const once = b.deploy();
    assert.equal(once.status, 0, once.stderr);
    assert.deepEqual(actions(once, "web"), ["restart content_changed", "restart content_changed"], "versions=1.0.0->1.0.0 now");
    assert.deepEqual(actions(once, "plain"), ["skip promoted", "skip promoted"]);
    for (const a of allocs) assert.equal(readFileSync(b.onWorker(a.index, "jobs/web/conf/app.conf"), "utf8"), expectedAppConf(b.bucketId, a, { current: "1.0.0", port: 8080 }));

    const again = b.deploy();
    assert.equal(again.status, 0, again.stderr);
    assert.deepEqual(again.plan!.counts, { start: 0, restart: 0, reload: 0, sync: 0, stop: 0, skip: 4 });
    assert.deepEqual(again.result!.steps, [], "nothing ran, not even pre_deploy");

    b.build(workspace(b, { port: 9090, broken: false }));
    const changed = b.deploy();
    assert.equal(changed.status, 0, changed.stderr);
    assert.deepEqual(actions(changed, "web"), ["restart content_changed", "restart content_changed"]);
    assert.deepEqual(finalActions(changed, "web"), b.ips.map((ip) => `${ip} restart`));
    assert.deepEqual(actions(changed, "plain"), ["skip promoted", "skip promoted"]);
    for (const a of allocs) assert.equal(readFileSync(b.onWorker(a.index, "jobs/web/conf/app.conf"), "utf8"), expectedAppConf(b.bucketId, a, { current: "1.0.0", port: 9090 }));
  });
});
