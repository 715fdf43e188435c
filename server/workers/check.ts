import { WorkerCheckFailed, WorkerUnreachable, type UnreachableKind } from "./errors.js";
import { mapLimited } from "./limiter.js";
import type { WorkerPool } from "./pool.js";
import { shellQuote } from "./shell.js";

/**
 * What deploy needs on a worker: bash/make for Makefile targets, python3 for runner.py and the
 * sync's apply step, timeout for remote deadlines, GNU find for the sync's state listing.
 */
export const REQUIRED_TOOLS: readonly string[] = ["bash", "make", "python3", "timeout", "find"];
/** runner.py and the sync scripts avoid anything newer. */
export const MIN_PYTHON: readonly [number, number] = [3, 6];

export interface CheckOptions {
  /** Also require `sudo -n true` to succeed; defaults to the pool's use_sudo. */
  useSudo?: boolean;
  tools?: readonly string[];
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface WorkerCheck {
  host: string;
  ok: boolean;
  /** One entry per missing piece: "make not found on PATH", "sudo -n true failed: ...". */
  problems: string[];
  /** Set when the worker could not be reached at all (down, refused the key, changed host key). */
  unreachable?: UnreachableKind;
}

/**
 * One round-trip per worker, all workers in parallel within the pool's bound, before anything
 * changes anywhere. The probe runs without `timeout` and as the login user (sudo is what it
 * checks), so it reports a worker lacking them instead of failing on them.
 */
export async function checkWorkers(pool: WorkerPool, hosts: readonly string[], o: CheckOptions = {}): Promise<WorkerCheck[]> {
  const useSudo = o.useSudo ?? pool.options.useSudo;
  const script = probeScript(o.tools ?? REQUIRED_TOOLS, useSudo);
  return mapLimited(hosts, pool.options.maxWorkers, async (host) => {
    try {
      const r = await pool.exec(host, script, { raw: true, sudo: false, timeoutMs: o.timeoutMs ?? 30_000, signal: o.signal });
      if (r.timedOut) return { host, ok: false, problems: [`the check did not finish within ${Math.round(r.durationMs)} ms`] };
      const problems = parseProbe(r.stdout.toString("utf8"));
      if (r.exitCode !== 0 && problems.length === 0) problems.push(`the check exited with ${r.exitCode}: ${r.stderr.toString("utf8").trim().slice(-300)}`);
      return { host, ok: problems.length === 0, problems };
    } catch (err) {
      if (err instanceof WorkerUnreachable) return { host, ok: false, problems: [`unreachable: ${err.reason}`], unreachable: err.kind };
      throw err;
    }
  });
}

/** checkWorkers, then a WorkerCheckFailed listing every worker and every problem. */
export async function assertWorkersReady(pool: WorkerPool, hosts: readonly string[], o: CheckOptions = {}): Promise<WorkerCheck[]> {
  const checks = await checkWorkers(pool, hosts, o);
  const failed = checks.filter((c) => !c.ok);
  if (failed.length) throw new WorkerCheckFailed(failed.map((c) => ({ host: c.host, problems: c.problems })));
  return checks;
}

function probeScript(tools: readonly string[], useSudo: boolean): string {
  const lines = [
    `for t in ${tools.map(shellQuote).join(" ")}; do command -v "$t" >/dev/null 2>&1 || echo "missing $t"; done`,
    // `python3 -V` answers before the interpreter initialises: a fraction of a real start-up.
    `if command -v python3 >/dev/null 2>&1; then v=$(python3 -V 2>&1); n=\${v#Python }; maj=\${n%%.*}; n=\${n#*.}; min=\${n%%.*}; ` +
      `if [ "$maj" -gt ${MIN_PYTHON[0]} ] 2>/dev/null || { [ "$maj" -eq ${MIN_PYTHON[0]} ] && [ "$min" -ge ${MIN_PYTHON[1]} ]; } 2>/dev/null; then :; else echo "oldpython $v"; fi; fi`,
  ];
  if (useSudo)
    lines.push(`if command -v sudo >/dev/null 2>&1; then out=$(sudo -n true 2>&1) || echo "nosudo $(printf '%s' "$out" | head -n 1)"; else echo "missing sudo"; fi`);
  lines.push("echo done");
  return lines.join("\n");
}

function parseProbe(out: string): string[] {
  const problems: string[] = [];
  let done = false;
  for (const line of out.split("\n")) {
    if (line.startsWith("missing ")) problems.push(`${line.slice(8)} not found on PATH`);
    else if (line.startsWith("oldpython ")) problems.push(`python3 is older than ${MIN_PYTHON.join(".")} (${line.slice(10)})`);
    else if (line.startsWith("nosudo ")) problems.push(`sudo -n true failed (use_sudo = true needs passwordless sudo): ${line.slice(7) || "no output"}`);
    else if (line === "done") done = true;
  }
  if (!done && problems.length === 0) problems.push("the check did not run to the end");
  return problems;
}
