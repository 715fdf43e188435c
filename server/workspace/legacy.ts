import type { FileProblems } from "./problems.js";

/**
 * The original maand's spellings, still read so that its workspaces build unchanged: manifest
 * `commands` (now `hooks`), hook names `command_*` (now `hook_*`), scripts in `_modules/` (now
 * `_hooks/`) and `demands.command` (now `demands.hook`). Hooks keep the names they were written
 * with: a `command_x` hook runs as command_x, with COMMAND=command_x, so an original script that
 * compares command_name() keeps working until its entry and its script are renamed together.
 */
export const LEGACY_HOOKS_FIELD = "commands";
export const LEGACY_DEMAND_HOOK_FIELD = "command";
export const LEGACY_HOOK_SCRIPT_DIR = "_modules";
export const LEGACY_HOOK_PREFIX = "command_";
export const LEGACY_HOOK_NAME_PATTERN = /^command_[A-Za-z0-9_]+$/;

/** The current name for an original hook name: command_x -> hook_x. */
export const currentHookName = (legacy: string): string => `hook_${legacy.slice(LEGACY_HOOK_PREFIX.length)}`;

/**
 * The original spellings found in one file, reported as one warning (a workspace written for the
 * original has them on every hook: one line per file says it all, one per occurrence would bury
 * every other warning). One instance per file read.
 */
export class LegacySpellings {
  private readonly found = new Map<string, string>();

  note(original: string, current: string): void {
    if (!this.found.has(original)) this.found.set(original, current);
  }

  /** The warning, if anything was noted. */
  warn(p: FileProblems): void {
    if (!this.found.size) return;
    const renames = [...this.found].map(([from, to]) => `${from} -> ${to}`).join(", ");
    p.warn(
      "$",
      `uses the original maand's spellings, read as the current ones: ${renames}; rename them to the current spellings ` +
        "(until then each hook keeps its original name, which its scripts see as COMMAND)",
    );
  }
}
