import { openBucket } from "../../server/bucket/context.js";
import { UsageError } from "../../server/errors.js";
import { HealthCheckFailed, runHealthCheck, type HealthCheckReport } from "../../server/health/check.js";
import type { ProbeResult } from "../../server/health/run.js";
import { canonicalHost } from "../../server/workspace/hosts.js";
import { hookProgress } from "../render/hook-progress.js";
import { summaryJson } from "../render/hook-summary.js";
import { renderJson, renderTable } from "../render/table.js";

interface HealthOptions {
  jobs?: string;
  allocations?: string;
  wait?: boolean;
  timeout?: string;
  json?: boolean;
  verbose?: boolean;
}

const list = (flag: string, raw: string | undefined): string[] | undefined => {
  if (raw === undefined) return undefined;
  const items = raw.split(",").map((s) => s.trim());
  if (!items.length || items.some((s) => !s)) throw new UsageError(`${flag} ${JSON.stringify(raw)}: expected a comma-separated list`);
  return [...new Set(items)];
};

/** `maand health_check [--jobs a,b] [--allocations ip,...] [--wait] [--timeout s] [--json] [--verbose]` */
export default async function healthCheck(bucket: string, opts: HealthOptions): Promise<number> {
  let timeoutSeconds: number | undefined;
  if (opts.timeout !== undefined) {
    timeoutSeconds = Number(opts.timeout);
    if (!/^\d+$/.test(opts.timeout.trim()) || timeoutSeconds < 1) throw new UsageError(`--timeout ${JSON.stringify(opts.timeout)}: expected a whole number of seconds >= 1`);
  }
  const ctx = openBucket(bucket);
  const out = opts.json ? process.stderr : process.stdout;
  try {
    const progress = await hookProgress({ event: "health_check", deployPhase: "health_check", bucketRoot: ctx.paths.root, steps: [] }, { out, verbose: opts.verbose ?? false });
    let report: HealthCheckReport;
    try {
      report = await runHealthCheck(ctx, {
        ...(opts.jobs ? { jobs: list("--jobs", opts.jobs) } : {}),
        ...(opts.allocations ? { workers: list("--allocations", opts.allocations)!.map(canonicalHost) } : {}),
        wait: opts.wait ?? false,
        ...(timeoutSeconds !== undefined ? { timeoutSeconds } : {}),
        reporter: progress.reporter,
        ...(opts.json ? {} : { onResult: (r: ProbeResult) => out.write(probeLine(r)) }),
      });
    } catch (err) {
      await progress.done();
      if (err instanceof HealthCheckFailed) print(err.report, opts.json ?? false);
      throw err;
    }
    await progress.done();
    print(report, opts.json ?? false);
    return 0;
  } finally {
    ctx.close();
  }
}

/** A check's line as it finishes (progress, not the report). */
export const probeLine = (r: ProbeResult): string => `  ${r.status.padEnd(7)} ${r.workerIp} ${r.job} ${r.check} (${r.latencyMs} ms)${r.error ? `: ${r.error}` : ""}\n`;

function print(report: HealthCheckReport, json: boolean): void {
  console.log(json ? renderJson(healthReportJson(report)) : renderHealthReport(report));
}

/** The report as `--json` prints it (also `maand job … --health_check --json`'s `health`). */
export function healthReportJson(report: HealthCheckReport) {
  return {
    ok: report.ok,
    unreachable: report.unreachable,
    checks: report.checks.map((c) => ({
      job: c.job,
      alloc_id: c.allocId,
      worker_ip: c.workerIp,
      check: c.check,
      status: c.status,
      latency_ms: c.latencyMs,
      attempts: c.attempts,
      ...(c.error ? { error: c.error } : {}),
    })),
    hooks: report.hooks ? summaryJson(report.hooks) : null,
  };
}

/** One row per allocation x check, then the one-line verdict. */
export function renderHealthReport(report: HealthCheckReport): string {
  const out: string[] = [];
  if (report.checks.length) {
    out.push(
      renderTable(report.checks, [
        { field: "workerIp", title: "ALLOCATION" },
        { field: "job", title: "JOB" },
        { field: "check", title: "CHECK" },
        { field: "status", title: "RESULT" },
        { field: "latencyMs", title: "LATENCY", format: (_v, r) => (r.status === "not_run" ? "-" : `${r.latencyMs} ms`) },
        { field: "error", title: "ERROR", maxWidth: Number.POSITIVE_INFINITY, format: (v) => String(v ?? "") },
      ]),
    );
  }
  const hooks = report.hooks?.invocations ?? [];
  const failedHooks = hooks.filter((h) => h.status !== "ok").length;
  out.push(
    `health check: ${report.ok ? "ok" : "failed"} (${report.checks.filter((c) => c.status === "ok").length}/${report.checks.length} checks passed` +
      `${hooks.length ? `, ${hooks.length - failedHooks}/${hooks.length} health_check hooks passed` : ""})`,
  );
  return out.join("\n");
}
