import { HOOK_EVENTS, type HookEvent, type HookSpec } from "./model.js";
import type { FileProblems } from "./problems.js";
import { indexPath, keyPath } from "./json-path.js";
import { integer, MAX_TIMEOUT_SECONDS, optional, readObject } from "./fields.js";
import { HOOK_NAME_PATTERN } from "./names.js";
import { parseDemand } from "./demand.js";
import { currentHookName, LEGACY_HOOK_NAME_PATTERN, LEGACY_HOOK_SCRIPT_DIR, type LegacySpellings } from "./legacy.js";

export const HOOK_FIELDS = ["executed_on", "demands", "timeout_seconds"] as const;
/** Script languages, in the order their paths are listed in messages. */
export const HOOK_SCRIPT_EXTENSIONS = [".py", ".ts", ".js"] as const;
export const HOOK_SCRIPT_DIR = "_hooks";
export const DEFAULT_HOOK_TIMEOUT_SECONDS = 3600;

export interface HooksOptions {
  /** JSON path of the hooks object: "$.hooks", or "$.commands" in an original maand manifest. */
  at?: string;
  /** Where original spellings (command_* names, _modules/ scripts) are noted; see legacy.ts. */
  legacy?: LegacySpellings;
}

/** `hooks` of one manifest; `files` are the job's file paths, to find each hook's script. */
export function parseHooks(p: FileProblems, value: unknown, job: string, files: ReadonlySet<string>, options: HooksOptions = {}): HookSpec[] {
  const root = options.at ?? "$.hooks";
  if (value === undefined || value === null) return [];
  const hooks = readObject(p, value, root, undefined, 'an object of hooks like {"hook_migrate": {"executed_on": ["pre_deploy"]}}');
  if (!hooks) return [];
  const specs: HookSpec[] = [];
  for (const [name, body] of Object.entries(hooks)) {
    const at = keyPath(root, name);
    const original = LEGACY_HOOK_NAME_PATTERN.test(name);
    const validName = HOOK_NAME_PATTERN.test(name) || original;
    if (!validName) p.add(at, 'expected a hook name starting with "hook_" followed by letters, digits or _ (e.g. "hook_migrate")', name);
    if (original) options.legacy?.note(`"${name}"`, `"${currentHookName(name)}"`);
    const obj = readObject(p, body, at, HOOK_FIELDS, 'a hook object like {"executed_on": ["cli"]}');
    if (!obj) continue;
    const executedOn = parseEvents(p, obj.executed_on, keyPath(at, "executed_on"));
    const timeoutSeconds = optional(p, obj, "timeout_seconds", at, integer(1, MAX_TIMEOUT_SECONDS), DEFAULT_HOOK_TIMEOUT_SECONDS);
    const demands = parseDemand(p, obj.demands, keyPath(at, "demands"), job, options.legacy);
    if (!validName) continue;
    // A hook with a bad script or events is still kept so demands on it are cross-checked;
    // the reported problems stop the read before the model is used.
    const script = findScript(p, name, at, files) ?? "";
    if (script.startsWith(`${LEGACY_HOOK_SCRIPT_DIR}/`)) options.legacy?.note(`${LEGACY_HOOK_SCRIPT_DIR}/`, `${HOOK_SCRIPT_DIR}/`);
    specs.push({ name, script, executedOn: executedOn ?? [], timeoutSeconds, ...(demands ? { demands } : {}) });
  }
  return specs.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

const EVENTS_TEXT = HOOK_EVENTS.join(", ");

function parseEvents(p: FileProblems, value: unknown, at: string): HookEvent[] | undefined {
  if (value === undefined) {
    p.add(at, `is missing; expected a non-empty array of events (${EVENTS_TEXT})`);
    return undefined;
  }
  if (!Array.isArray(value) || value.length === 0) {
    p.add(at, `expected a non-empty array of events (${EVENTS_TEXT})`, value);
    return undefined;
  }
  const events: HookEvent[] = [];
  let ok = true;
  value.forEach((event, i) => {
    if (!HOOK_EVENTS.includes(event as HookEvent)) {
      p.add(indexPath(at, i), `is not a hook event; expected one of ${EVENTS_TEXT}`, event);
      ok = false;
    } else if (events.includes(event as HookEvent)) {
      p.add(indexPath(at, i), `is listed twice; expected each event once`, event);
      ok = false;
    } else events.push(event as HookEvent);
  });
  return ok ? events : undefined;
}

/**
 * Exactly one `_hooks/<name>.py|.ts|.js` must exist (or, as the original maand kept them, in
 * `_modules/`): with two, which one runs would be a guess.
 */
function findScript(p: FileProblems, name: string, at: string, files: ReadonlySet<string>): string | undefined {
  const candidates = HOOK_SCRIPT_EXTENSIONS.map((ext) => `${HOOK_SCRIPT_DIR}/${name}${ext}`);
  const original = HOOK_SCRIPT_EXTENSIONS.map((ext) => `${LEGACY_HOOK_SCRIPT_DIR}/${name}${ext}`);
  const present = [...candidates, ...original].filter((c) => files.has(c));
  if (present.length === 1) return present[0];
  if (present.length === 0) p.add(at, `has no script; expected exactly one of ${candidates.join(", ")} in the job`);
  else p.add(at, `has ${present.length} scripts (${present.join(", ")}); expected exactly one`);
  return undefined;
}
