/**
 * How template functions are declared. Go checks and converts each argument against the Go
 * function's parameter type (exec.go evalArg/validateType), so each function states its
 * parameters the same way: `any` for interface{} or reflect.Value (anything, nil included),
 * `string`, or `[]string`.
 */
import type { GoValue } from "./values.js";

export type ParamType = "any" | "string" | "[]string";

/** What a function may use besides its arguments, for one execution. */
export interface CallContext {
  kv: TemplateKv;
  /** The namespace of `getSecret "key"`: the executing job's own secrets. */
  secretNamespace: string;
  /** Secret values read so far, kept out of every error message. */
  revealed: Set<string>;
}

export interface TemplateFunc {
  /** Fixed parameters. */
  params: readonly ParamType[];
  /** Element type of a final ...parameter, if the function is variadic. */
  variadic?: ParamType;
  /** Throws TemplateFuncError for Go's non-nil error result. */
  call(args: GoValue[], ctx: CallContext): GoValue;
}

/**
 * The KV store as templates see it. The deploy code wires it to the real store with the hook
 * read rules; the engine itself depends on nothing else in maand.
 */
export interface TemplateKv {
  /** The value, or undefined when the key is absent. Throws when the namespace may not be read. */
  get(namespace: string, key: string): string | undefined;
  /** The live keys of a namespace, in any order. Throws when the namespace may not be read. */
  keys(namespace: string): string[];
}
