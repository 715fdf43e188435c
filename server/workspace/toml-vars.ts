import { parse, TomlError } from "smol-toml";
import type { Vars } from "./model.js";
import type { FileProblems } from "./problems.js";
import { isObject, didYouMean, type JsonObject } from "./fields.js";
import { displayName } from "./json-path.js";

/** Parses TOML, reporting syntax errors as "line N, column M"; undefined when broken. */
export function parseToml(p: FileProblems, text: string): JsonObject | undefined {
  try {
    return parse(text) as JsonObject;
  } catch (err) {
    if (!(err instanceof TomlError)) throw err;
    const what = err.message.split("\n")[0].replace(/^Invalid TOML document: /, "");
    p.add(`line ${err.line}, column ${err.column}`, `invalid TOML: ${what}; expected valid TOML`);
    return undefined;
  }
}

/** KV values are strings: scalars as text, dates as ISO 8601, arrays and tables as JSON. */
export function toVars(table: JsonObject): Vars {
  return Object.fromEntries(Object.entries(table).map(([key, value]) => [key, toVarValue(value)]));
}

function toVarValue(value: unknown): string {
  if (typeof value === "string") return value;
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value) || isObject(value)) return JSON.stringify(value);
  return String(value);
}

/**
 * bucket.jobs[.<sel>].conf: every top-level entry must be a [<job>] table for an existing job
 * (a typo would otherwise silently configure nothing).
 */
export function toJobVars(p: FileProblems, table: JsonObject, jobs: ReadonlySet<string>): Record<string, Vars> {
  const byJob: Array<[string, Vars]> = [];
  for (const [job, value] of Object.entries(table)) {
    // The value is not echoed: vars files may hold credentials.
    if (!isObject(value) || value instanceof Date) p.add(displayName(job), "is a top-level value; expected only [<job>] tables");
    else if (!jobs.has(job)) p.add(`[${displayName(job)}]`, `names no job in workspace/jobs/${didYouMean(job, jobs)}; expected a table per existing job`);
    else byJob.push([job, toVars(value)]);
  }
  return Object.fromEntries(byJob);
}

/** The job config file for this bucket: bucket.jobs.<sel>.conf when a selector is configured. */
export function bucketJobsConfName(selector: string): string {
  return selector ? `bucket.jobs.${selector}.conf` : "bucket.jobs.conf";
}
