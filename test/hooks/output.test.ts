import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LineSplitter, MAX_LINE_BYTES, stagedPathMapper, TailBuffer } from "../../server/hooks/output.js";
import { Redactor } from "../../server/hooks/redaction.js";
import { MAX_LOG_BYTES_PER_INVOCATION, newRunId, openRunLogs } from "../../server/hooks/run-logs.js";

describe("hook output handling", () => {
  it("splits chunks into lines across chunk boundaries, CRLF included", () => {
    const s = new LineSplitter();
    assert.deepEqual(s.push(Buffer.from("a\nb")), ["a"]);
    assert.deepEqual(s.push(Buffer.from("c\r\nd\n\n")), ["bc", "d", ""]);
    assert.deepEqual(s.push(Buffer.from("tail")), []);
    assert.deepEqual(s.end(), ["tail"]);
    assert.deepEqual(s.end(), []);
  });

  it("caps over-long lines and drops their rest up to the newline", () => {
    const s = new LineSplitter();
    const lines = [...s.push(Buffer.alloc(MAX_LINE_BYTES * 3, "x")), ...s.push(Buffer.from("yyy\nnext\n"))];
    assert.equal(lines.length, 2);
    assert.equal(lines[0], `${"x".repeat(MAX_LINE_BYTES)} …[line truncated]`);
    assert.equal(lines[1], "next");
  });

  it("neutralises binary and control bytes and decodes invalid UTF-8 leniently", () => {
    const s = new LineSplitter();
    const [line] = s.push(Buffer.from([0x41, 0x00, 0x1b, 0x5b, 0x32, 0x4a, 0xff, 0xfe, 0x09, 0x42, 0x0a]));
    assert.equal(line, "A\uFFFD\uFFFD[2J\uFFFD\uFFFD\tB");
  });

  it("keeps only the last 20 lines", () => {
    const t = new TailBuffer();
    for (let i = 0; i < 1000; i++) t.push(`l${i}`);
    assert.deepEqual(t.get(), Array.from({ length: 20 }, (_, i) => `l${980 + i}`));
  });

  it("redacts known secrets, ignoring values too short to be secrets", () => {
    const r = new Redactor();
    r.add("hunter22");
    r.add("ab");
    r.add(undefined);
    assert.equal(r.redact("pw=hunter22 and hunter22, ab"), "pw=*** and ***, ab");
  });

  it("caps each invocation's log in bytes, also for binary output (U+FFFD is 3 bytes on disk)", () => {
    const dir = mkdtempSync(join(tmpdir(), "maand-logs-"));
    try {
      const logs = openRunLogs({ logsDir: dir, runId: "r", format: "text", now: () => 0 });
      const log = logs.open({ job: "api", hook: "hook_x", event: "cli", workerIp: "10.0.0.1" });
      const binaryLine = "\uFFFD".repeat(MAX_LINE_BYTES);
      for (let i = 0; i < (3 * MAX_LOG_BYTES_PER_INVOCATION) / MAX_LINE_BYTES; i++) log.write("stdout", [binaryLine]);
      log.close();
      logs.close();
      for (const file of [join(dir, "runs", "r", "api.hook_x.10.0.0.1.log"), join(dir, "10.0.0.1.log")]) {
        const size = statSync(file).size;
        assert.ok(size <= MAX_LOG_BYTES_PER_INVOCATION, `${file}: ${size} bytes`);
        assert.ok(size > MAX_LOG_BYTES_PER_INVOCATION - 3 * MAX_LINE_BYTES - 1024, "filled up to the cap");
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("writes text or JSON lines to the per-worker and per-run logs", () => {
    const dir = mkdtempSync(join(tmpdir(), "maand-logs-"));
    try {
      const runId = newRunId(Date.UTC(2030, 0, 2, 3, 4, 5));
      assert.match(runId, /^20300102T030405Z-[0-9a-f]{6}$/);
      const logs = openRunLogs({ logsDir: dir, runId, format: "json", now: () => Date.UTC(2030, 0, 2) });
      const log = logs.open({ job: "api", hook: "hook_x", event: "cli", workerIp: "10.0.0.1" });
      log.write("stderr", ["boom", 'quote " and \\']);
      log.close();
      logs.close();
      const lines = readFileSync(join(dir, "runs", runId, "api.hook_x.10.0.0.1.log"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
      assert.deepEqual(lines[0], { ts: "2030-01-02T00:00:00.000Z", run_id: runId, job: "api", hook: "hook_x", event: "cli", worker: "10.0.0.1", stream: "stderr", line: "boom" });
      assert.equal(lines[1].line, 'quote " and \\');
      assert.equal(readFileSync(join(dir, "10.0.0.1.log"), "utf8"), readFileSync(join(dir, "runs", runId, "api.hook_x.10.0.0.1.log"), "utf8"));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("a failure tail keeps the exception's message line, drops Bun's footer and shows workspace paths", () => {
    const t = new TailBuffer(4, stagedPathMapper("/b/tmp/workers/10.0.0.1/jobs/api", "workspace/jobs/api"));
    t.push("error: the schema is missing");
    for (let i = 0; i < 6; i++) t.push(`      at down (/b/tmp/workers/10.0.0.1/jobs/api/_hooks/hook.ts:${i}:9)`);
    t.push("");
    t.push("Bun v1.4.5 (Linux x64)");
    const tail = t.get();
    assert.equal(tail.length, 4);
    assert.equal(tail[0], "error: the schema is missing");
    assert.equal(tail[1], "…");
    assert.ok(tail.slice(2).every((l) => l.includes("workspace/jobs/api/_hooks/hook.ts:")), tail.join("\n"));
    const py = new TailBuffer(3);
    for (const l of ["Traceback (most recent call last):", '  File "x.py", line 1', "ValueError: bad"]) py.push(l);
    assert.deepEqual(py.get(), ["Traceback (most recent call last):", '  File "x.py", line 1', "ValueError: bad"]);
  });
});
