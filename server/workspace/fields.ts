import type { FileProblems } from "./problems.js";
import { keyPath } from "./json-path.js";

/** Field checkers shared by every JSON file of the workspace. */

export type JsonObject = Record<string, unknown>;

/** What a check returns for a bad value: the text of what was expected. */
export class Invalid {
  constructor(readonly expected: string) {}
}
export type Check<T> = (value: unknown) => T | Invalid;

export function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * The value as an object, reporting a non-object and every field not in `known`
 * (typos must not pass silently). `known` undefined = any field allowed. `accepted` fields pass
 * too without being offered in the hint (the original maand's spellings, see legacy.ts).
 */
export function readObject(
  p: FileProblems,
  value: unknown,
  path: string,
  known: readonly string[] | undefined,
  what = "a JSON object",
  accepted: readonly string[] = [],
): JsonObject | undefined {
  if (!isObject(value)) {
    p.add(path, `expected ${what}`, value);
    return undefined;
  }
  if (known) {
    for (const key of Object.keys(value)) {
      if (!known.includes(key) && !accepted.includes(key)) p.add(keyPath(path, key), unknownField(key, known), value[key]);
    }
  }
  return value;
}

function unknownField(key: string, known: readonly string[]): string {
  return `unknown field ${JSON.stringify(key)}${didYouMean(key, known)}; expected one of ${known.join(", ")}`;
}

/** The known name within edit distance 2, if any: typo hints. */
export function closest(word: string, names: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const name of names) {
    const d = editDistance(word.toLowerCase(), name.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [name, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length];
}

/** JSON null counts as absent for optional fields. */
const absent = (v: unknown) => v === undefined || v === null;

export function optional<T>(p: FileProblems, obj: JsonObject, key: string, parent: string, check: Check<T>, fallback: T): T {
  const value = obj[key];
  if (absent(value)) return fallback;
  const result = check(value);
  if (result instanceof Invalid) {
    p.add(keyPath(parent, key), result.expected, value);
    return fallback;
  }
  return result;
}

export function required<T>(p: FileProblems, obj: JsonObject, key: string, parent: string, check: Check<T>, what: string): T | undefined {
  const value = obj[key];
  if (value === undefined) {
    p.add(keyPath(parent, key), `is missing; expected ${what}`);
    return undefined;
  }
  const result = check(value);
  if (result instanceof Invalid) {
    p.add(keyPath(parent, key), result.expected, value);
    return undefined;
  }
  return result;
}

/** Node timers hold at most 2^31-1 ms (~24.8 days): a longer timeout would fire at once. */
export const MAX_TIMEOUT_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

/** An integer in [min, max]; `expected` replaces the generated wording when the bounds are not the whole story. */
export function integer(min: number, max = Number.MAX_SAFE_INTEGER, expected?: string): Check<number> {
  const text = expected ?? (max === Number.MAX_SAFE_INTEGER ? `an integer >= ${min}` : `an integer from ${min} to ${max}`);
  return (v) => (typeof v === "number" && Number.isInteger(v) && v >= min && v <= max ? v : new Invalid(`expected ${text}`));
}

export function number(min: number): Check<number> {
  return (v) => (typeof v === "number" && Number.isFinite(v) && v >= min ? v : new Invalid(`expected a number >= ${min}`));
}

export const boolean: Check<boolean> = (v) => (typeof v === "boolean" ? v : new Invalid("expected true or false"));

export function text(what = "a non-empty string", pattern?: RegExp): Check<string> {
  return (v) => (typeof v === "string" && v.length > 0 && (!pattern || pattern.test(v)) ? v : new Invalid(`expected ${what}`));
}

export function oneOf<T extends string>(values: readonly T[]): Check<T> {
  return (v) => (values.includes(v as T) ? (v as T) : new Invalid(`expected one of ${values.map((x) => JSON.stringify(x)).join(", ")}`));
}

/** ` (did you mean "x"?)` when a known name is close, else "". */
export function didYouMean(word: string, names: Iterable<string>): string {
  const hint = closest(word, [...names]);
  return hint ? ` (did you mean "${hint}"?)` : "";
}
