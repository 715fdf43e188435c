import { MaandError } from "../errors.js";
import { escapeText } from "../text/escape.js";

/** One thing wrong in the workspace, located precisely enough to fix without guessing. */
export interface WorkspaceProblem {
  /** Relative to the bucket root, POSIX separators, e.g. "workspace/jobs/api/manifest.json". */
  file: string;
  /** JSON path ("$[2].labels[0]"), TOML key, "line 3, column 5", or a directory entry ("data/"). */
  path: string;
  /** The offending value; undefined when the value is missing. */
  value?: unknown;
  /** What is wrong and what was expected, readable after the value. */
  expected: string;
}

const MAX_VALUE_CHARS = 120;

function renderValue(value: unknown): string {
  let json: string;
  try {
    json = JSON.stringify(value, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v)) ?? String(value);
  } catch {
    json = String(value);
  }
  return json.length > MAX_VALUE_CHARS ? `${json.slice(0, MAX_VALUE_CHARS - 1)}…` : json;
}

/**
 * `<file>: <path>: <value as JSON> <what is wrong / expected>` (no value part when missing), one
 * line. Escaped as a whole: file and entry names come from the directory as they are, and JSON
 * leaves DEL, C1 controls and bidi overrides raw.
 */
export function formatProblem(p: WorkspaceProblem): string {
  const value = p.value === undefined ? "" : `${renderValue(p.value)} `;
  return escapeText(`${p.file}: ${p.path}: ${value}${p.expected}`);
}

/** Every problem found in one read of the workspace; nothing was written anywhere. */
export class WorkspaceValidationError extends MaandError {
  constructor(readonly problems: readonly WorkspaceProblem[]) {
    super(problems.map(formatProblem).join("\n"), 1);
  }

  override jsonDetail(): unknown {
    return { problems: this.problems };
  }
}
