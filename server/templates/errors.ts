import { MaandError } from "../errors.js";

/** Where in which template file something went wrong, plus what was involved. */
export interface TemplateErrorDetails {
  /** The template file, e.g. "conf/app.yml.tpl". */
  file: string;
  /** The template being executed: the file itself or a {{define}}d name. Absent for parse errors. */
  template?: string;
  /** 1-based. */
  line: number;
  /** 1-based, in characters. */
  column: number;
  /** The action's source text, e.g. `get "vars/job/app" "port"`. Absent for parse errors. */
  context?: string;
  /** The function that failed, when a function call failed. */
  function?: string;
  /** The KV key and namespace involved, when a KV function failed. */
  key?: string;
  namespace?: string;
}

/**
 * A template that cannot be parsed or executed. The message follows Go's text/template
 * (`template: FILE:LINE:COL: executing "NAME" at <ACTION>: REASON`) but always carries a column,
 * also for parse errors, and never contains a secret value.
 */
export class TemplateError extends MaandError {
  readonly file: string;
  readonly template?: string;
  readonly line: number;
  readonly column: number;
  readonly context?: string;
  readonly function?: string;
  readonly key?: string;
  readonly namespace?: string;

  constructor(
    details: TemplateErrorDetails,
    /** What went wrong, without the location prefix. */
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    const where = `template: ${details.file}:${details.line}:${details.column}: `;
    const what = details.template === undefined ? "" : `executing ${JSON.stringify(details.template)} at <${details.context ?? ""}>: `;
    super(where + what + reason, 1, options);
    this.file = details.file;
    this.template = details.template;
    this.line = details.line;
    this.column = details.column;
    this.context = details.context;
    this.function = details.function;
    this.key = details.key;
    this.namespace = details.namespace;
  }
}

/**
 * Thrown by a template function (Go: the function's error result). The evaluator turns it into a
 * TemplateError at the calling action, as Go's "error calling NAME: ...".
 */
export class TemplateFuncError extends Error {
  constructor(
    message: string,
    readonly involved: { key?: string; namespace?: string } = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "TemplateFuncError";
  }
}

/** Line and column (both 1-based, column in code points) of a UTF-16 offset in source. */
export function lineAndColumn(source: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = source.indexOf("\n"); i >= 0 && i < offset; i = source.indexOf("\n", i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, column: Array.from(source.slice(lineStart, offset)).length + 1 };
}
