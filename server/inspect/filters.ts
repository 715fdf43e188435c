import { escapeText } from "../text/escape.js";
import { MaandError } from "../errors.js";

/**
 * `cat --jobs/--workers` name things the bucket knows. A typo must not look like "nothing
 * there": an unknown name is an error listing what exists.
 */
export function assertKnownNames(flag: string, noun: string, wanted: readonly string[] | undefined, known: Iterable<string>): void {
  if (!wanted?.length) return;
  const have = new Set(known);
  const unknown = wanted.filter((w) => !have.has(w));
  if (!unknown.length) return;
  const list = [...have].sort();
  const shown = list.length > 20 ? `${list.slice(0, 20).join(", ")}, ... (${list.length} in all)` : list.join(", ") || "none";
  throw new MaandError(`${flag} ${escapeText(unknown.join(","))}: unknown ${noun}${unknown.length === 1 ? "" : "s"} (known: ${shown})`);
}
