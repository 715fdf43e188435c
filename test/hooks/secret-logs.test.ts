import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { MIN_SECRET_LENGTH } from "../../server/hooks/redaction.js";
import { hookBucket, maand, workers, type HookBucket } from "./fixture.js";
import { filesUnder } from "../helpers/files.js";

const MULTI = "multi-line-secret-one\nmulti-line-secret-two\r\n";
const ESC = "esc\u001b[2J-secret-value";
const CR = "carriage-secret-val\r";
const SHORT = "Zq7!x";

/** Stores secrets, then prints them (and its staged private key) every way a hook might, and fails. */
const LEAKY = `import sys
from maand import put_job_secret, put_job_variable
secrets = {"multi": ${JSON.stringify(MULTI)}, "esc": ${JSON.stringify(ESC)}, "cr": ${JSON.stringify(CR)}, "short": ${JSON.stringify(SHORT)}}
for k, v in secrets.items():
    put_job_secret(k, v).raise_for_status()
key = open("certs/server.key").read()
out = sys.stdout
out.write("multi: " + secrets["multi"] + "\\n")
out.write("esc: " + secrets["esc"] + "\\n")
out.write("cr: " + secrets["cr"] + "\\n")
out.flush()
sys.stderr.write(key)
for line in key.splitlines():
    print("  key line " + line)
half = len(secrets["esc"]) // 2
out.write("split: " + secrets["esc"][:half])
out.flush()
put_job_variable("between", "writes").raise_for_status()  # a round trip between the two halves
out.write(secrets["esc"][half:] + " done\\n")
out.flush()
sys.exit(3)
`;

/** Every form a secret could take in a log: raw, with control characters replaced, line by line. */
function leaks(text: string, key: string): string[] {
  const forms = [MULTI, ESC, CR, ESC.replace("\u001b", "\uFFFD"), "[2J-secret-value", "multi-line-secret-one", "multi-line-secret-two", "carriage-secret-val", SHORT];
  const keyLines = key.trim().split("\n").slice(1, -1);
  return [...forms, ...keyLines].filter((f) => text.includes(f));
}

describe("secrets never reach logs, --verbose or the failure report (real Python hook)", () => {
  let b: HookBucket;
  let key: string;
  before(async () => {
    b = await hookBucket();
    await b.build({
      workers: workers(1),
      jobs: {
        api: {
          manifest: { version: "1.0.0", selectors: ["w"], certs: { server: { subject: { common_name: "api" } } }, hooks: { hook_leak: { executed_on: ["cli"] } } },
          files: { "_hooks/hook_leak.py": LEAKY },
        },
      },
    });
    key = await b.with((ctx) => ctx.kv.get("maand/job/api/worker/10.0.0.1", "certs/server.key")!);
    // A bucket from before logs were private: logs/ 0755 with world-readable files in it.
    const logs = join(b.root, "logs");
    chmodSync(logs, 0o755);
    writeFileSync(join(logs, "10.0.0.1.log"), "old line\n", { mode: 0o644 });
    mkdirSync(join(logs, "runs", "old-run"), { recursive: true, mode: 0o755 });
    writeFileSync(join(logs, "runs", "old-run", "x.log"), "old\n", { mode: 0o644 });
  });
  after(() => b.cleanup());

  it("masks multi-line, ESC-holding, \\r-ending and split secrets and the staged private key; warns about a short secret without printing it", () => {
    const r = maand(b.root, "hooks", "hook_leak", "api", "--verbose");
    assert.equal(r.status, 3, r.stderr);
    assert.match(r.stderr, /10\.0\.0\.1 .*exit code 3/, "the failure report");
    assert.match(r.stderr, /\| .*\*\*\*/, "the report's tail shows masked lines");
    assert.match(r.stdout, /\[10\.0\.0\.1 api hook_leak\] multi: \*\*\*/);
    assert.match(r.stdout, /\[10\.0\.0\.1 api hook_leak\] split: \*\*\* done/);
    assert.match(r.stdout, /\[10\.0\.0\.1 api hook_leak\]   key line \*\*\*/);
    const warning = new RegExp(`warning: job api: a hook stored secret "short" in secrets/job/api, ${SHORT.length} characters long; secrets shorter than ${MIN_SECRET_LENGTH} characters cannot be masked`);
    assert.match(r.stdout, warning);

    const logs = filesUnder(join(b.root, "logs"));
    const runLog = logs.find((f) => f.endsWith("api.hook_leak.10.0.0.1.log"))!;
    assert.match(readFileSync(runLog, "utf8"), warning, "the warning is in the invocation's log");
    for (const [where, text] of [["stdout", r.stdout], ["stderr", r.stderr], ...logs.map((f) => [f, readFileSync(f, "utf8")])] as Array<[string, string]>) {
      assert.deepEqual(leaks(text, key), [], `${where} leaks`);
    }
    assert.match(readFileSync(join(b.root, "logs", "10.0.0.1.log"), "utf8"), /stream=stdout cr: \*\*\*/);
  });

  it("logs/ is 0700 and every file under it 0600, including those from before", () => {
    const logs = join(b.root, "logs");
    assert.equal(statSync(logs).mode & 0o777, 0o700);
    for (const d of [join(logs, "runs"), join(logs, "runs", "old-run")]) assert.equal(statSync(d).mode & 0o777, 0o700, d);
    const files = filesUnder(logs);
    assert.ok(files.length >= 3);
    for (const f of files) assert.equal(statSync(f).mode & 0o777, 0o600, f);
  });
});
