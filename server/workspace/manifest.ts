import { RESTART_POLICIES, type JobSpec } from "./model.js";
import type { FileProblems } from "./problems.js";
import { indexPath, keyPath } from "./json-path.js";
import { integer, oneOf, optional, readObject, type JsonObject } from "./fields.js";
import { NAME_EXPECTED, NAME_PATTERN } from "./names.js";
import { DEFAULT_VERSION, normalizeVersion, VERSION_EXPECTED } from "./version.js";
import { parseHooks } from "./hooks.js";
import { parseHealthCheck } from "./health-check.js";
import { parseCerts } from "./certs.js";
import { LEGACY_HOOKS_FIELD, LegacySpellings } from "./legacy.js";

export const MANIFEST_FIELDS = [
  "version",
  "selectors",
  "max_concurrent_upgrades",
  "max_concurrent_starts",
  "restart_policy",
  "hooks",
  "health_check",
  "certs",
] as const;

/** The JobSpec fields a manifest defines, plus what cross-job checks need to know about it. */
export type Manifest = Pick<
  JobSpec,
  "version" | "selectors" | "maxConcurrentUpgrades" | "maxConcurrentStarts" | "restartPolicy" | "hooks" | "healthCheck" | "certs"
> & {
  raw: JsonObject;
  /** Jobs in a demand relation must say which version they are. */
  versionDeclared: boolean;
  /** False when the declared version is garbage (already reported; do not compare it). */
  versionValid: boolean;
};

/** One job's manifest.json, checked on its own; cross-job demand checks come later. */
export function parseManifest(p: FileProblems, doc: unknown, job: string, files: ReadonlySet<string>): Manifest | undefined {
  const obj = readObject(p, doc, "$", MANIFEST_FIELDS, "a manifest object (at least {})", [LEGACY_HOOKS_FIELD]);
  if (!obj) return undefined;
  const healthCheck = parseHealthCheck(p, obj.health_check);
  const legacy = new LegacySpellings();
  const hooks = hooksField(p, obj, legacy);
  const manifest: Manifest = {
    raw: obj,
    ...parseVersion(p, obj.version),
    selectors: parseSelectors(p, obj.selectors, job),
    // Below 1 would stall rollouts, so it means 1 rather than an error.
    // SPEC §4: values below 1 mean 1, so any integer is accepted; the message says so.
    maxConcurrentUpgrades: Math.max(1, optional(p, obj, "max_concurrent_upgrades", "$", integer(Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, "an integer (values below 1 mean 1)"), 1)),
    maxConcurrentStarts: optional(p, obj, "max_concurrent_starts", "$", integer(0, Number.MAX_SAFE_INTEGER, "an integer >= 0 (0 = one batch of all new allocations)"), 0),
    restartPolicy: optional(p, obj, "restart_policy", "$", oneOf(RESTART_POLICIES), "always"),
    hooks: hooks ? parseHooks(p, hooks.value, job, files, { at: hooks.at, legacy }) : [],
    ...(healthCheck ? { healthCheck } : {}),
    certs: parseCerts(p, obj.certs),
  };
  legacy.warn(p);
  return manifest;
}

/** `hooks`, or the original's `commands`; both at once would leave which one counts to a guess. */
function hooksField(p: FileProblems, obj: JsonObject, legacy: LegacySpellings): { value: unknown; at: string } | undefined {
  const current = obj.hooks;
  const original = obj[LEGACY_HOOKS_FIELD];
  if (original === undefined) return { value: current, at: "$.hooks" };
  if (current !== undefined) {
    p.add(`$.${LEGACY_HOOKS_FIELD}`, `is set together with "hooks"; expected only "hooks" (the original maand's name for it is "${LEGACY_HOOKS_FIELD}"): merge them into "hooks"`);
    return undefined;
  }
  legacy.note(`"${LEGACY_HOOKS_FIELD}"`, '"hooks"');
  return { value: original, at: `$.${LEGACY_HOOKS_FIELD}` };
}

function parseVersion(p: FileProblems, value: unknown): Pick<Manifest, "version" | "versionDeclared" | "versionValid"> {
  if (value === undefined || value === null) return { version: DEFAULT_VERSION, versionDeclared: false, versionValid: true };
  const version = typeof value === "string" ? normalizeVersion(value) : undefined;
  if (version === undefined) p.add("$.version", `expected ${VERSION_EXPECTED}`, value);
  return { version: version ?? DEFAULT_VERSION, versionDeclared: true, versionValid: version !== undefined };
}

function parseSelectors(p: FileProblems, value: unknown, job: string): string[] {
  if (value === undefined || value === null) return [job];
  if (!Array.isArray(value)) {
    p.add("$.selectors", 'expected an array of worker labels like ["worker"]', value);
    return [job];
  }
  const selectors: string[] = [];
  value.forEach((label, i) => {
    if (typeof label === "string" && NAME_PATTERN.test(label)) selectors.push(label);
    else p.add(indexPath(keyPath("$", "selectors"), i), `expected a worker label: ${NAME_EXPECTED}`, label);
  });
  return selectors.length > 0 ? selectors : [job];
}
