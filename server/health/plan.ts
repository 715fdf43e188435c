import { resolveRolloutOrder } from "../kv/rollout-order.js";
import type { HealthCheckProbe, HealthCheckSpec } from "../workspace/model.js";

/**
 * Which probes `maand health_check` (and deploy's health gate) runs, as plain data: per job, its
 * ACTIVE allocations in rollout order, in batches of max_concurrent_upgrades, each allocation
 * with every check of the manifest, ports resolved (SPEC §11; the note: probes run no user
 * script and get no batch variables).
 */

export type ResolvedProbe =
  | { type: "tcp"; port: number }
  | { type: "http"; port: number; path: string; expect_status: number; scheme: "http" | "https"; expect_body?: string }
  | { type: "ssh"; command: string };

export interface ProbeItem {
  job: string;
  allocId: string;
  workerIp: string;
  checkIndex: number;
  /** "tcp:5432", "http:8080/healthz", "ssh:test -f /ready" */
  check: string;
  /** What to dial, or why it cannot be (a port key missing from KV): a failed check, reported as such. */
  probe: ResolvedProbe | { problem: string };
}

export interface JobProbePlan {
  job: string;
  width: number;
  rolloutOrder: string[];
  timeoutSeconds: number;
  wait: { attempts: number; intervalSeconds: number };
  /** Batches of allocations, each with all its checks. */
  batches: ProbeItem[][];
}

export interface HealthPlan {
  jobs: JobProbePlan[];
}

export interface HealthPlanInput {
  jobs: Array<{ name: string; maxConcurrentUpgrades: number; healthCheck: HealthCheckSpec }>;
  /** Active allocations of those jobs, catalog order. */
  allocations: Array<{ allocId: string; job: string; workerIp: string }>;
  rolloutOrders: Record<string, string | undefined>;
  /** A port given as a KV key, as found for (job, worker); undefined when no namespace has it. */
  portOf(job: string, workerIp: string, key: string): string | undefined;
  /** Only these workers (--allocations, or the batch a deploy gate checks). */
  workers?: readonly string[];
}

export function checkLabel(p: HealthCheckProbe): string {
  if (p.type === "ssh") return `ssh:${p.command.length > 40 ? `${p.command.slice(0, 39)}…` : p.command}`;
  if (p.type === "tcp") return `tcp:${p.port}`;
  return `${p.scheme === "https" ? "https" : "http"}:${p.port}${p.path}`;
}

export function planHealthChecks(input: HealthPlanInput): HealthPlan {
  const only = input.workers ? new Set(input.workers) : undefined;
  const jobs: JobProbePlan[] = [];
  for (const job of input.jobs) {
    const allocs = input.allocations.filter((a) => a.job === job.name);
    const { order } = resolveRolloutOrder(allocs.map((a) => a.workerIp), input.rolloutOrders[job.name]);
    const selected = only ? order.filter((ip) => only.has(ip)) : order;
    const byIp = new Map(allocs.map((a) => [a.workerIp, a]));
    const width = Math.max(1, job.maxConcurrentUpgrades);
    const batches: ProbeItem[][] = [];
    for (let i = 0; i < selected.length; i += width) {
      batches.push(
        selected.slice(i, i + width).flatMap((ip) =>
          job.healthCheck.checks.map((c, checkIndex) => ({
            job: job.name,
            allocId: byIp.get(ip)!.allocId,
            workerIp: ip,
            checkIndex,
            check: checkLabel(c),
            probe: resolve(c, (key) => input.portOf(job.name, ip, key)),
          })),
        ),
      );
    }
    jobs.push({ job: job.name, width, rolloutOrder: selected, timeoutSeconds: job.healthCheck.timeoutSeconds, wait: job.healthCheck.wait, batches });
  }
  return { jobs };
}

function resolve(c: HealthCheckProbe, portOf: (key: string) => string | undefined): ResolvedProbe | { problem: string } {
  if (c.type === "ssh") return c;
  if (typeof c.port === "number") return { ...c, port: c.port };
  const raw = portOf(c.port);
  if (raw === undefined) return { problem: `port key ${c.port} is in none of the job's KV namespaces (maand/job/<job>/worker/<ip>, vars/job/<job>, vars/bucket/job/<job>, vars/bucket)` };
  const n = Number(raw.trim());
  if (!Number.isInteger(n) || n < 1 || n > 65535) return { problem: `port key ${c.port} holds ${JSON.stringify(raw.slice(0, 40))}, not a port from 1 to 65535` };
  return { ...c, port: n };
}
