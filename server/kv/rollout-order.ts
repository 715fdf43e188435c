/**
 * THE rollout_order rule, used by the runtime API (what a PUT accepts) and by the hook planner
 * (when a stored list applies), so the two can never disagree on what a list says.
 *
 * A list is comma-separated worker IPs; whitespace around an entry is ignored (the original
 * clients strip it), an empty entry or a repeated worker makes it invalid. A PUT must name only
 * workers of the job (a subset is fine: the job's worker sets differ per event). The planner uses
 * a stored list only when it names exactly the event's worker set (SPEC §7.2).
 */

export interface ParsedRolloutOrder {
  workers: string[];
  /** What makes the list unusable (empty entry, repeats); undefined when it is well-formed. */
  problem?: string;
}

export function parseRolloutOrder(value: string): ParsedRolloutOrder {
  if (value.trim() === "") return { workers: [], problem: "is empty" };
  const entries = value.split(",").map((s) => s.trim());
  const workers = entries.filter((w) => w.length > 0);
  const seen = new Set<string>();
  const repeated = [...new Set(workers.filter((w) => (seen.has(w) ? true : (seen.add(w), false))))];
  const problems = [
    ...(workers.length < entries.length ? ["has an empty entry"] : []),
    ...(repeated.length ? [`repeats ${named(repeated)}`] : []),
  ];
  return problems.length ? { workers, problem: problems.join("; ") } : { workers };
}

export class InvalidRolloutOrder extends Error {
  constructor(detail: string) {
    super(detail);
    this.name = "InvalidRolloutOrder";
  }
}

/** What a PUT of rollout_order stores: the canonical list; throws InvalidRolloutOrder otherwise. */
export function acceptRolloutOrder(job: string, value: string, jobWorkers: readonly string[]): string {
  const parsed = parseRolloutOrder(value);
  if (parsed.problem) throw new InvalidRolloutOrder(`rollout_order ${parsed.problem}: expected a comma-separated list of workers of job ${job} without repeats`);
  const known = new Set(jobWorkers);
  const foreign = parsed.workers.find((ip) => !known.has(ip));
  if (foreign !== undefined) {
    throw new InvalidRolloutOrder(`rollout_order lists ${JSON.stringify(foreign)}, which is not a worker of job ${job} (workers: ${jobWorkers.join(",") || "none"})`);
  }
  return parsed.workers.join(",");
}

/** At most this many addresses are named in a reason; a 200-worker job must not flood the console. */
const NAMED = 5;

/**
 * Whether a stored list applies to an event's worker set (in catalog order): only when it names
 * exactly those workers. `ignored` says why a stored list was not used, and is left out when
 * ignoring it changes nothing (the list's own order of the set's workers is catalog order, as for
 * the value every build resets rollout_order to): there is nothing for the operator to fix.
 */
export function resolveRolloutOrder(
  workers: readonly string[],
  stored: string | undefined,
): { order: string[]; source: "kv" | "default"; ignored?: { stored: string[]; reason: string } } {
  if (stored === undefined) return { order: [...workers], source: "default" };
  // An empty list is exactly an empty worker set (every allocation disabled, say).
  if (stored.trim() === "" && workers.length === 0) return { order: [], source: "kv" };
  const parsed = parseRolloutOrder(stored);
  const reasons = [mismatch(workers, parsed.workers), parsed.problem].filter((r): r is string => r !== undefined && r !== "is empty");
  if (parsed.problem === "is empty") reasons.push("is empty");
  if (reasons.length === 0) return { order: parsed.workers, source: "kv" };
  const reason = reasons.join("; ");
  const current = new Set(workers);
  const relative = parsed.workers.filter((w) => current.has(w));
  const inCatalogOrder = workers.filter((w) => relative.includes(w));
  const harmless = stored.trim() !== "" && relative.length === inCatalogOrder.length && relative.every((w, i) => w === inCatalogOrder[i]);
  return { order: [...workers], source: "default", ...(harmless ? {} : { ignored: { stored: parsed.workers, reason } }) };
}

function mismatch(workers: readonly string[], listed: readonly string[]): string | undefined {
  if (!listed.length) return undefined;
  const current = new Set(workers);
  const seen = new Set(listed);
  const missing = workers.filter((ip) => !seen.has(ip));
  const foreign = [...seen].filter((ip) => !current.has(ip));
  const reasons: string[] = [];
  if (missing.length) reasons.push(`lists ${workers.length - missing.length} of ${workers.length} workers, missing ${named(missing)}`);
  if (foreign.length) reasons.push(`names workers not in this run's worker set: ${named(foreign)}`);
  return reasons.length ? reasons.join("; ") : undefined;
}

function named(ips: readonly string[]): string {
  const shown = ips.slice(0, NAMED).join(", ");
  return ips.length > NAMED ? `${shown} and ${ips.length - NAMED} more` : shown;
}
