import type { HookDemand } from "./model.js";
import type { FileProblems } from "./problems.js";
import { keyPath } from "./json-path.js";
import { readObject, type JsonObject } from "./fields.js";
import { HOOK_NAME_PATTERN, NAME_PATTERN } from "./names.js";
import { compareVersions, normalizeVersion, VERSION_EXPECTED } from "./version.js";
import { currentHookName, LEGACY_DEMAND_HOOK_FIELD, LEGACY_HOOK_NAME_PATTERN, type LegacySpellings } from "./legacy.js";

export const DEMAND_FIELDS = ["job", "hook", "config"] as const;
/** The config keys maand itself checks; any other key is the demanding hook's own. */
export const DEMAND_CONFIG_FIELDS = ["min_version", "max_version"] as const;

/**
 * One hook's `demands`, checked on its own (shape, both-or-neither, self-reference, version
 * syntax). Whether the upstream job and hook exist is checked once all jobs are read.
 * Absent or empty (`{}`, `{"job": "", "hook": ""}`) means no demand.
 */
export function parseDemand(p: FileProblems, value: unknown, at: string, job: string, legacy?: LegacySpellings): HookDemand | undefined {
  if (value === undefined || value === null) return undefined;
  const obj = readObject(p, value, at, DEMAND_FIELDS, 'a demand like {"job": "database", "hook": "hook_schema"}', [LEGACY_DEMAND_HOOK_FIELD]);
  if (!obj) return undefined;
  const hookKey = hookField(p, obj, at, legacy);
  if (!hookKey) return undefined;
  const upstream = name(p, obj, "job", at, NAME_PATTERN, "a job name");
  const hook = name(p, obj, hookKey, at, HOOK_NAME_PATTERN, 'a hook name starting with "hook_"', LEGACY_HOOK_NAME_PATTERN);
  if (hook && LEGACY_HOOK_NAME_PATTERN.test(hook)) legacy?.note(`"${hook}"`, `"${currentHookName(hook)}"`);
  if (upstream === undefined || hook === undefined) return undefined;
  if (upstream === "" && hook === "") {
    if (obj.config !== undefined && obj.config !== null) p.add(keyPath(at, "config"), "is set without a demanded job and hook; expected job and hook to be set too", obj.config);
    return undefined;
  }
  if (upstream === "" || hook === "") {
    const [missing, given] = upstream === "" ? ["job", hookKey] : [hookKey, "job"];
    p.add(keyPath(at, missing), `is empty while demands.${given} is set; expected both job and hook, or neither`, obj[missing] === undefined ? undefined : obj[missing]);
    return undefined;
  }
  if (upstream === job) {
    p.add(keyPath(at, "job"), "is this hook's own job; expected another job (a job cannot demand itself)", upstream);
    return undefined;
  }
  const config = parseConfig(p, obj.config, keyPath(at, "config"));
  return config ? { job: upstream, hook, config } : undefined;
}

/**
 * Which field names the demanded hook: "hook", or the original's "command" (so messages point
 * at what the file says). Both set is an error: which one counts would be a guess.
 */
function hookField(p: FileProblems, obj: JsonObject, at: string, legacy: LegacySpellings | undefined): string | undefined {
  const original = obj[LEGACY_DEMAND_HOOK_FIELD];
  if (original === undefined) return "hook";
  if (obj.hook !== undefined) {
    p.add(keyPath(at, LEGACY_DEMAND_HOOK_FIELD), `is set together with "hook"; expected only "hook" (the original maand's name for it is "${LEGACY_DEMAND_HOOK_FIELD}")`, original);
    return undefined;
  }
  legacy?.note(`"demands.${LEGACY_DEMAND_HOOK_FIELD}"`, '"demands.hook"');
  return LEGACY_DEMAND_HOOK_FIELD;
}

function name(p: FileProblems, obj: JsonObject, key: string, at: string, pattern: RegExp, what: string, alsoAccepted?: RegExp): string | undefined {
  const value = obj[key];
  if (value === undefined || value === null || value === "") return "";
  if (typeof value === "string" && (pattern.test(value) || alsoAccepted?.test(value))) return value;
  p.add(keyPath(at, key), `expected ${what}`, value);
  return undefined;
}

/**
 * The demand's config is free-form (feature flags, schema versions: whatever the upstream hook
 * reads from /demands as demand_config). Only min_version/max_version have a meaning to maand:
 * they are checked and normalised ("v2" -> "2.0.0") so later comparisons are exact; every other
 * key is kept as written.
 */
function parseConfig(p: FileProblems, value: unknown, at: string): Record<string, unknown> | undefined {
  if (value === undefined || value === null) return {};
  const obj = readObject(p, value, at, undefined, 'an object like {"min_version": "2.0.0", "flags": ["x"]}');
  if (!obj) return undefined;
  const config: Record<string, unknown> = { ...obj };
  let ok = true;
  for (const key of DEMAND_CONFIG_FIELDS) {
    const raw = obj[key];
    if (raw === undefined || raw === null) continue;
    const version = typeof raw === "string" ? normalizeVersion(raw) : undefined;
    if (version === undefined) {
      p.add(keyPath(at, key), `expected ${VERSION_EXPECTED}`, raw);
      ok = false;
    } else config[key] = version;
  }
  const min = config.min_version as string | undefined;
  const max = config.max_version as string | undefined;
  if (ok && min && max && compareVersions(min, max) > 0) {
    p.add(keyPath(at, "max_version"), `is below min_version ${JSON.stringify(min)}; expected max_version >= min_version`, obj.max_version);
    ok = false;
  }
  return ok ? config : undefined;
}
