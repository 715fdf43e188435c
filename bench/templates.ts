/**
 * Template rendering, measured side by side in one run against Go's own text/template.
 *
 *   node dist/bench/templates.js [--allocations 200] [--rounds 5]
 *
 * A 2,000-line template with 500 `get` calls rendered for 200 allocations. maand: a fresh Node
 * process that imports the engine, parses once and renders 200 times. Peer: the Go program of the
 * differential test (test/templates/go/render.go, built before timing starts) doing the same from
 * its own process start. Both read the same request on stdin and print a SHA-256 of everything
 * they rendered; the hashes must agree. Rounds alternate Go and maand; the best of each is
 * reported, so load from other processes does not decide the ratio. Target: maand <= 3x Go.
 *
 * With --render this file is the maand side of that comparison (it then imports nothing but the
 * engine).
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseTemplate, type TemplateData } from "../server/templates/render.js";

const LINES = 2000;
const GETS = 500;
const NS = "vars/job/bench";

interface Request {
  bench: { source: string; allocations: TemplateData[]; kv: Record<string, Record<string, string>>; ownJob: string };
}

interface Rendered {
  renders: number;
  bytes: number;
  sha256: string;
  /** maand only: time spent inside the process on parsing and on rendering. */
  parseMs?: number;
  renderMs?: number;
}

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

/** A config-file-like template: every 4th line a `get`, the rest text, fields, branches, printf. */
function template(): string {
  const lines: string[] = ["{{- /* generated benchmark template */ -}}"];
  for (let i = 0; lines.length < LINES; i++) {
    if (i % 4 === 0 && i / 4 < GETS) lines.push(`key_${i / 4} = {{ get "${NS}" "k${i / 4}" }}`);
    else if (i % 4 === 1) lines.push(`# section ${i} for {{ .Job }} on {{ .WorkerIP }} ({{ .AllocationID }})`);
    else if (i % 16 === 2) lines.push(`{{ if eq .AllocationIndex 0 }}primary = true{{ else }}primary = false{{ end }}`);
    else if (i % 16 === 6) lines.push(`labels = [{{ range $i, $l := .Labels }}{{ if $i }}, {{ end }}{{ printf "%q" $l }}{{ end }}]`);
    else if (i % 16 === 10) lines.push(`slot = {{ printf "%05d" .AllocationIndex }} {{- /* trimmed */}}`);
    else lines.push(`plain text line ${i}: nothing to substitute here, just bytes to copy`);
  }
  return lines.join("\n") + "\n";
}

function request(allocations: number): Request {
  const values: Record<string, string> = {};
  for (let k = 0; k < GETS; k++) values[`k${k}`] = `value-${k}-${"x".repeat(k % 13)}`;
  const data: TemplateData[] = Array.from({ length: allocations }, (_, i) => ({
    WorkerIP: `10.1.${i >> 8}.${i & 255}`,
    WorkerID: `worker-${i}`,
    Job: "bench",
    AllocationID: `alloc-${i}`,
    AllocationIndex: i,
    CurrentVersion: "1.0.0",
    NewVersion: "1.1.0",
    Labels: ["web", `rack${i % 10}`],
    BucketPath: "/var/maand",
    JobPath: "/var/maand/jobs/bench",
  }));
  return { bench: { source: template(), allocations: data, kv: { [NS]: values }, ownJob: "bench" } };
}

/** The maand side: read the request, parse once, render per allocation, hash the output. */
function renderChild(): void {
  const { bench } = JSON.parse(readFileSync(0, "utf8")) as Request;
  const kv = { get: (ns: string, key: string) => bench.kv[ns]?.[key], keys: (ns: string) => Object.keys(bench.kv[ns] ?? {}) };
  const t0 = performance.now();
  const t = parseTemplate(bench.source, "bench.tpl");
  const t1 = performance.now();
  const hash = createHash("sha256");
  let bytes = 0;
  for (const data of bench.allocations) {
    const out = Buffer.from(t.execute({ data, kv, ownJob: bench.ownJob }), "utf8");
    bytes += out.length;
    hash.update(out);
  }
  const t2 = performance.now();
  const result: Rendered = { renders: bench.allocations.length, bytes, sha256: hash.digest("hex"), parseMs: t1 - t0, renderMs: t2 - t1 };
  process.stdout.write(JSON.stringify(result) + "\n");
}

function timed(cmd: string, args: string[], requestFile: string): { ms: number; result: Rendered } {
  const input = readFileSync(requestFile);
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { input, encoding: "utf8", maxBuffer: 1 << 26 });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} exited ${r.status}: ${r.stderr}`);
  return { ms, result: JSON.parse(r.stdout) as Rendered };
}

async function main(): Promise<void> {
  const { buildOracle, goUnavailable } = await import("../test/templates/go-oracle.js");
  const missing = goUnavailable();
  if (missing) {
    console.error(`bench/templates needs Go as its peer: ${missing}`);
    process.exit(1);
  }
  const allocations = arg("allocations", 200);
  const rounds = arg("rounds", 5);
  const dir = mkdtempSync(join(tmpdir(), "maand-bench-templates-"));
  const oracle = buildOracle();
  try {
    const requestFile = join(dir, "request.json");
    writeFileSync(requestFile, JSON.stringify(request(allocations)));
    const self = fileURLToPath(import.meta.url);
    const go: number[] = [];
    const maand: { ms: number; result: Rendered }[] = [];
    let goResult: Rendered | undefined;
    for (let i = 0; i < rounds; i++) {
      const g = timed(oracle.binary, [], requestFile);
      go.push(g.ms);
      goResult = g.result;
      maand.push(timed(process.execPath, [self, "--render"], requestFile));
    }
    const m = maand[0]!.result;
    if (m.sha256 !== goResult!.sha256 || m.bytes !== goResult!.bytes) {
      console.error(`maand and Go rendered different output: maand ${m.bytes} bytes ${m.sha256}, Go ${goResult!.bytes} bytes ${goResult!.sha256}`);
      process.exit(1);
    }
    const best = (xs: number[]) => Math.min(...xs);
    const maandMs = best(maand.map((x) => x.ms));
    const goMs = best(go);
    const inner = maand.reduce((a, b) => (a.ms <= b.ms ? a : b)).result;
    console.log(`template: ${LINES} lines, ${GETS} get calls; ${allocations} allocations, ${(m.bytes / 1048576).toFixed(1)} MB rendered; best of ${rounds} rounds`);
    console.log(`go:       ${go.map((x) => x.toFixed(0)).join(" / ")} ms (text/template, process start to exit, identical output)`);
    console.log(`maand:    ${maand.map((x) => x.ms.toFixed(0)).join(" / ")} ms (node start, import, parse once, render ${allocations}x; in-process parse ${inner.parseMs!.toFixed(1)} ms, render ${inner.renderMs!.toFixed(0)} ms = ${(inner.renderMs! / allocations).toFixed(2)} ms each)`);
    const ratio = maandMs / goMs;
    console.log(`RESULT templates ${maandMs.toFixed(0)} ms vs Go ${goMs.toFixed(0)} ms = ${ratio.toFixed(2)}x (target <= 3x) ${ratio <= 3 ? "OK" : "OVER"}`);
  } finally {
    oracle.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === "--render") renderChild();
else await main();
