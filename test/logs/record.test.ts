import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { newRunId, openRunLogs } from "../../server/hooks/run-logs.js";
import { LineReader } from "../../server/logs/line-reader.js";
import { listRuns } from "../../server/logs/sources.js";
import { mergeByTime } from "../../server/logs/merge.js";
import { formatJsonLine, formatTextLine, parseLogLine, RUN_ID_PATTERN, runStartedAt, type LogRecord } from "../../server/logs/record.js";

/** The reader against the real writer: a change to the log format that the reader misses fails here. */

const LINES = ["plain", "", "  indented", "tab\there", "run=fake job=fake stream=x", 'quote " \\ {json}', "\uFFFD binary"];

function writeRun(format: "text" | "json"): { records: LogRecord[]; runId: string; raw: string } {
  const dir = mkdtempSync(join(tmpdir(), "maand-logs-record-"));
  try {
    const runId = newRunId(Date.UTC(2030, 0, 2, 3, 4, 5));
    const logs = openRunLogs({ logsDir: dir, runId, format, now: () => Date.UTC(2030, 0, 2, 3, 4, 6) });
    const log = logs.open({ job: "api.v2", hook: "hook_x", event: "cli", workerIp: "fe80::1" });
    log.write("stdout", LINES);
    log.write("maand", ["ok (exit code 0) after 5 ms"]);
    log.close();
    logs.close();
    const raw = readFileSync(join(dir, "runs", runId, "api.v2.hook_x.fe80::1.log"), "utf8");
    return { records: raw.trimEnd().split("\n").map((l) => parseLogLine(l)!), runId, raw };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("logs: the run log format, read back", () => {
  for (const format of ["text", "json"] as const) {
    it(`reads every field of ${format} lines as the hook engine writes them`, () => {
      const { records, runId, raw } = writeRun(format);
      const base = { ts: "2030-01-02T03:04:06.000Z", run_id: runId, job: "api.v2", hook: "hook_x", event: "cli", worker: "fe80::1" };
      assert.deepEqual(records, [...LINES.map((line) => ({ ...base, stream: "stdout", line })), { ...base, stream: "maand", line: "ok (exit code 0) after 5 ms" }]);
      // Printing in the stored format gives back the stored bytes.
      const again = records.map(format === "text" ? formatTextLine : formatJsonLine).join("\n") + "\n";
      assert.equal(again, raw);
    });
  }

  it("run ids: newRunId's names match RUN_ID_PATTERN and give their start time back", () => {
    const t = Date.UTC(2031, 11, 31, 23, 59, 58);
    const id = newRunId(t + 123);
    assert.match(id, RUN_ID_PATTERN);
    assert.equal(runStartedAt(id), t);
    for (const bad of ["keep-me", "20300102T030405Z", "../20300102T030405Z-a1b2c3", "20301302T030405Z-a1b2c3x"]) assert.equal(runStartedAt(bad), undefined, bad);
  });

  it("lines in neither format are not records", () => {
    for (const bad of ["garbage", "{not json", '{"ts": "x"}', "2030-01-02T00:00:00Z run=r job=j"]) assert.equal(parseLogLine(bad), undefined, bad);
  });

  it("merges invocation logs by time, equal times in file order", () => {
    const rec = (ts: string, line: string) => ({ ts, run_id: "r", job: "j", hook: "h", event: "cli", worker: "w", stream: "stdout", line });
    const a = [rec("1", "a1"), rec("3", "a3"), rec("3", "a3b")];
    const b = [rec("2", "b2"), rec("3", "b3"), rec("4", "b4")];
    const c: LogRecord[] = [];
    const src = (xs: LogRecord[]) => ({ next: () => xs.shift() });
    assert.deepEqual([...mergeByTime([src(a), src(b), src(c)])].map((r) => r.line), ["a1", "b2", "a3", "a3b", "b3", "b4"]);
  });

  it("reads lines across chunk boundaries, multi-byte characters and a last line without newline", () => {
    const dir = mkdtempSync(join(tmpdir(), "maand-lines-"));
    try {
      const file = join(dir, "f.log");
      const lines = Array.from({ length: 5000 }, (_, i) => `${i} ${"é".repeat(i % 97)}`);
      writeFileSync(file, lines.join("\n"));
      const reader = new LineReader(file);
      const out: string[] = [];
      for (let l = reader.next(); l !== undefined; l = reader.next()) out.push(l);
      assert.deepEqual(out, lines);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("orders runs started within one second by their first logged line (run ids stop at seconds)", () => {
    const dir = mkdtempSync(join(tmpdir(), "maand-runs-"));
    try {
      // Random suffixes sorting against the start order; the earlier second comes first regardless.
      const runs: Array<[string, string]> = [
        ["20300102T030405Z-ffffff", "2030-01-02T03:04:05.100Z"],
        ["20300102T030405Z-000000", "2030-01-02T03:04:05.900Z"],
        ["20300102T030405Z-888888", "2030-01-02T03:04:05.500Z"],
        ["20300102T030404Z-999999", "2030-01-02T03:04:04.999Z"],
      ];
      for (const [id, ts] of runs) {
        mkdirSync(join(dir, "runs", id), { recursive: true });
        writeFileSync(join(dir, "runs", id, "j.hook_x.10.0.0.1.log"), `${ts} run=${id} job=j hook=hook_x event=cli worker=10.0.0.1 stream=maand started\n`);
      }
      mkdirSync(join(dir, "runs", "not-a-run"));
      assert.deepEqual(listRuns(dir), ["20300102T030404Z-999999", "20300102T030405Z-ffffff", "20300102T030405Z-888888", "20300102T030405Z-000000"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
