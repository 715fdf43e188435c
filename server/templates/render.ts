/**
 * maand's template engine, the public entry: Go text/template syntax and semantics (maand
 * workspaces were written for the Go implementation), maand's function map, and KV access
 * injected by the caller. Parse a `.tpl` once, execute it per allocation.
 */
import { dataValue, type TemplateData } from "./data.js";
import { TemplateError } from "./errors.js";
import { execute, hasFunction } from "./exec.js";
import type { CallContext, TemplateKv } from "./funcs.js";
import { parse, type TreeSet } from "./parser.js";
import type { GoValue } from "./values.js";
import { NS } from "../kv/namespaces.js";

export type { TemplateData } from "./data.js";
export { TemplateError, type TemplateErrorDetails } from "./errors.js";
export type { TemplateKv } from "./funcs.js";

export interface RenderOptions {
  /** The allocation: the template's dot. */
  data: TemplateData;
  kv: TemplateKv;
  /** The job the template belongs to: `getSecret "key"` reads that job's secrets namespace. */
  ownJob: string;
}

/** A parsed template, safe to execute any number of times (each execution is independent). */
export interface ParsedTemplate {
  /** The file name given to parseTemplate. */
  readonly name: string;
  /** Renders the template for one allocation. Throws TemplateError. */
  execute(options: RenderOptions): string;
  /** Like execute, with the dot given as a Go value (tests use it for dots other than maand's). */
  executeDot(dot: GoValue, options: Omit<RenderOptions, "data">): string;
}

// A JS stack overflow (absurdly nested parentheses, say) is reported as a template error,
// where Go would have kept going: there is no way to run that template here.
function guardStack<T>(file: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof RangeError && /call stack/i.test(e.message)) {
      throw new TemplateError({ file, line: 1, column: 1 }, "template is nested too deeply to evaluate", { cause: e });
    }
    throw e;
  }
}

class Template implements ParsedTemplate {
  constructor(
    readonly name: string,
    private readonly source: string,
    private readonly trees: TreeSet,
  ) {}

  execute(options: RenderOptions): string {
    return this.executeDot(dataValue(options.data), options);
  }

  executeDot(dot: GoValue, options: Omit<RenderOptions, "data">): string {
    const ctx: CallContext = { kv: options.kv, secretNamespace: NS.jobSecrets(options.ownJob), revealed: new Set() };
    return guardStack(this.name, () => execute(this.trees, this.source, this.name, this.name, dot, ctx));
  }
}

/**
 * Parses a template; `name` is its file name (e.g. "conf/app.yml.tpl"), used in every error.
 * Throws TemplateError for anything Go's parser rejects.
 */
export function parseTemplate(source: string, name: string): ParsedTemplate {
  const trees = guardStack(name, () => parse({ source, file: name, hasFunction }));
  return new Template(name, source, trees);
}

/** parseTemplate and execute in one go, for a template rendered once. */
export function renderTemplate(source: string, options: RenderOptions & { name: string }): string {
  return parseTemplate(source, options.name).execute(options);
}
