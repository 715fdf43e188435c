/**
 * The evaluator: a port of Go 1.19's text/template exec.go over the engine's Go values. It keeps
 * Go's order of evaluation and of checks (argument count before arguments, arguments left to
 * right, `and`/`or` stopping early), its variable scoping (a declaration lives until the
 * enclosing {{end}}, an assignment inside range changes the outer variable), and its error cases.
 */
import { BUILTINS } from "./builtins.js";
import { lineAndColumn, TemplateError, TemplateFuncError } from "./errors.js";
import { formatValue, sprint } from "./fmt-print.js";
import type { CallContext, ParamType, TemplateFunc } from "./funcs.js";
import { compareGo } from "./go-strings.js";
import { MAAND_FUNCS } from "./maand-funcs.js";
import { nodeText, type AnyNode, type ArgNode, type BranchNode, type ChainNode, type CommandNode, type FieldNode, type IdentifierNode, type ItemNode, type ListNode, type NumberNode, type PipeNode, type TemplateNode, type Tree, type VariableNode } from "./nodes.js";
import type { TreeSet } from "./parser.js";
import { GoMap, GoSlice, GoStruct, isTrue, stringSlice, typeName, type GoValue } from "./values.js";

/** Go allows 100000 nested {{template}} calls; a JS stack runs out long before, so maand stops here. */
export const MAX_TEMPLATE_DEPTH = 1000;

const MISSING = Symbol("no pipeline value");
type Final = GoValue | typeof MISSING;

// How a walk ends: normally, or at {{break}} / {{continue}} on its way up to the range.
const NORMAL = 0;
const BREAK = 1;
const CONTINUE = 2;
type Signal = typeof NORMAL | typeof BREAK | typeof CONTINUE;

const NIL_STRINGS = stringSlice([]);

export function hasFunction(name: string): boolean {
  return MAAND_FUNCS.has(name) || BUILTINS.has(name);
}

/** What one execution shares across nested {{template}} calls. */
interface Run {
  source: string;
  file: string;
  trees: TreeSet;
  ctx: CallContext;
  out: string;
}

interface Variable {
  name: string;
  value: GoValue;
}

class State {
  /** The node being evaluated, for the error location (Go's s.at). */
  private node: AnyNode | null = null;

  constructor(
    private readonly run: Run,
    private readonly tree: Tree,
    private readonly vars: Variable[],
    private readonly depth: number,
  ) {}

  private at(node: AnyNode): void {
    this.node = node;
  }

  private errorf(reason: string, involved: { function?: string; key?: string; namespace?: string } = {}, cause?: unknown): never {
    const node = this.node;
    const { line, column } = node ? lineAndColumn(this.run.source, node.pos) : { line: 1, column: 1 };
    const scrub = (s: string) => {
      for (const secret of this.run.ctx.revealed) s = s.replaceAll(secret, "***");
      return s;
    };
    throw new TemplateError(
      { file: this.run.file, template: this.tree.name, line, column, context: scrub(node ? nodeText(node) : ""), ...involved },
      scrub(reason),
      cause === undefined ? undefined : { cause },
    );
  }

  private varValue(name: string): GoValue {
    for (let i = this.vars.length - 1; i >= 0; i--) if (this.vars[i]!.name === name) return this.vars[i]!.value;
    this.errorf(`undefined variable: ${name}`);
  }

  private setVar(name: string, value: GoValue): void {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      if (this.vars[i]!.name === name) {
        this.vars[i]!.value = value;
        return;
      }
    }
    this.errorf(`undefined variable: ${name}`);
  }

  walk(dot: GoValue, node: ItemNode | ListNode): Signal {
    this.at(node);
    switch (node.kind) {
      case "text":
        this.run.out += node.text;
        return NORMAL;
      case "list":
        for (const n of node.nodes) {
          const signal = this.walk(dot, n);
          if (signal !== NORMAL) return signal;
        }
        return NORMAL;
      case "action": {
        // Declared variables persist until the enclosing {{end}}; a declaration prints nothing.
        const value = this.evalPipeline(dot, node.pipe);
        if (node.pipe.decl.length === 0) {
          this.at(node);
          this.run.out += value === undefined ? "<no value>" : formatValue(value);
        }
        return NORMAL;
      }
      case "if":
      case "with":
        return this.walkIfOrWith(dot, node);
      case "range":
        return this.walkRange(dot, node);
      case "template":
        this.walkTemplate(dot, node);
        return NORMAL;
      case "break":
        return BREAK;
      case "continue":
        return CONTINUE;
    }
  }

  private walkIfOrWith(dot: GoValue, node: BranchNode): Signal {
    const mark = this.vars.length;
    const value = this.evalPipeline(dot, node.pipe);
    let signal: Signal = NORMAL;
    if (isTrue(value)) signal = this.walk(node.kind === "with" ? value : dot, node.list);
    else if (node.elseList) signal = this.walk(dot, node.elseList);
    this.vars.length = mark;
    return signal;
  }

  private walkRange(dot: GoValue, node: BranchNode): Signal {
    this.at(node);
    const mark = this.vars.length;
    const value = this.evalPipeline(dot, node.pipe);
    const bodyMark = this.vars.length;
    const decl = node.pipe.decl.length;
    // One iteration; true when it ended in {{break}}.
    const iteration = (index: GoValue, elem: GoValue): boolean => {
      if (decl > 0) this.vars[this.vars.length - 1]!.value = elem;
      if (decl > 1) this.vars[this.vars.length - 2]!.value = index;
      const signal = this.walk(elem, node.list);
      this.vars.length = bodyMark;
      return signal === BREAK;
    };
    let ran = false;
    if (value instanceof GoSlice) {
      ran = value.items.length > 0;
      for (let i = 0; i < value.items.length; i++) if (iteration(BigInt(i), value.items[i])) break;
    } else if (value instanceof GoMap) {
      ran = value.entries.size > 0;
      for (const k of [...value.entries.keys()].sort(compareGo)) if (iteration(k, value.entries.get(k))) break;
    } else if (value !== undefined) {
      this.errorf(`range can't iterate over ${sprint([value])}`);
    }
    let signal: Signal = NORMAL;
    // Go recovers {{break}} in walkRange itself, so one in the else branch stops only this range.
    if (!ran && node.elseList && this.walk(dot, node.elseList) === CONTINUE) signal = CONTINUE;
    this.vars.length = mark;
    return signal;
  }

  private walkTemplate(dot: GoValue, node: TemplateNode): void {
    this.at(node);
    const tree = this.run.trees.get(node.name);
    if (tree === undefined) this.errorf(`template ${JSON.stringify(node.name)} not defined`);
    if (this.depth >= MAX_TEMPLATE_DEPTH) this.errorf(`exceeded maximum template depth (${MAX_TEMPLATE_DEPTH})`);
    // Variables declared by the pipeline persist; the called template sees none of ours.
    const value = this.evalPipeline(dot, node.pipe);
    new State(this.run, tree, [{ name: "$", value }], this.depth + 1).walk(value, tree.root);
  }

  private evalPipeline(dot: GoValue, pipe: PipeNode | null): GoValue {
    if (pipe === null) return undefined;
    this.at(pipe);
    let value: Final = MISSING;
    for (const cmd of pipe.cmds) value = this.evalCommand(dot, cmd, value);
    const result = value as GoValue;
    for (const v of pipe.decl) {
      if (pipe.isAssign) this.setVar(v.ident[0]!, result);
      else this.vars.push({ name: v.ident[0]!, value: result });
    }
    return result;
  }

  private notAFunction(args: readonly ArgNode[], final: Final): void {
    if (args.length > 1 || final !== MISSING) this.errorf(`can't give argument to non-function ${nodeText(args[0]!)}`);
  }

  private evalCommand(dot: GoValue, cmd: CommandNode, final: Final): GoValue {
    const first = cmd.args[0]!;
    switch (first.kind) {
      case "field":
        return this.evalFieldNode(dot, first, cmd.args, final);
      case "chain":
        return this.evalChainNode(dot, first, cmd.args, final);
      case "identifier":
        return this.evalFunction(dot, first, cmd, cmd.args, final);
      case "pipe":
        this.notAFunction(cmd.args, final);
        return this.evalPipeline(dot, first);
      case "variable":
        return this.evalVariableNode(first, cmd.args, final);
    }
    this.at(first);
    this.notAFunction(cmd.args, final);
    switch (first.kind) {
      case "bool":
        return first.value;
      case "dot":
        return dot;
      case "nil":
        this.errorf("nil is not a command");
      // falls through (errorf never returns)
      case "number":
        return this.idealConstant(first);
      case "string":
        return first.text;
    }
  }

  private idealConstant(n: NumberNode): GoValue {
    this.at(n);
    if ("overflow" in n.ideal) this.errorf(n.ideal.overflow);
    return n.ideal.value;
  }

  private evalFieldNode(dot: GoValue, field: FieldNode, args: readonly ArgNode[] | null, final: Final): GoValue {
    this.at(field);
    return this.evalFieldChain(dot, field.ident, args, final);
  }

  private evalChainNode(dot: GoValue, chain: ChainNode, args: readonly ArgNode[] | null, final: Final): GoValue {
    this.at(chain);
    if (chain.node.kind === "nil") this.errorf(`indirection through explicit nil in ${nodeText(chain)}`);
    const receiver = this.evalArg(dot, null, chain.node);
    return this.evalFieldChain(receiver, chain.fields, args, final);
  }

  private evalVariableNode(v: VariableNode, args: readonly ArgNode[] | null, final: Final): GoValue {
    this.at(v);
    const value = this.varValue(v.ident[0]!);
    if (v.ident.length === 1) {
      this.notAFunction(args ?? [v], final);
      return value;
    }
    return this.evalFieldChain(value, v.ident.slice(1), args, final);
  }

  private evalFieldChain(receiver: GoValue, ident: readonly string[], args: readonly ArgNode[] | null, final: Final): GoValue {
    const n = ident.length;
    for (let i = 0; i < n - 1; i++) receiver = this.evalField(ident[i]!, null, MISSING, receiver);
    return this.evalField(ident[n - 1]!, args, final, receiver);
  }

  private evalField(name: string, args: readonly ArgNode[] | null, final: Final, receiver: GoValue): GoValue {
    // A field of no value is no value (the missingkey=default behaviour).
    if (receiver === undefined) return undefined;
    const hasArgs = (args !== null && args.length > 1) || final !== MISSING;
    if (receiver instanceof GoStruct) {
      if (receiver.fields.has(name)) {
        if (hasArgs) this.errorf(`${name} has arguments but cannot be invoked as function`);
        return receiver.fields.get(name);
      }
    } else if (receiver instanceof GoMap) {
      if (hasArgs) this.errorf(`${name} is not a method but has arguments`);
      return receiver.entries.get(name);
    }
    this.errorf(`can't evaluate field ${name} in type ${typeName(receiver)}`);
  }

  private evalFunction(dot: GoValue, node: IdentifierNode, cmd: AnyNode, args: readonly ArgNode[] | null, final: Final): GoValue {
    this.at(node);
    const fn = MAAND_FUNCS.get(node.name) ?? BUILTINS.get(node.name);
    if (fn === undefined) this.errorf(`${JSON.stringify(node.name)} is not a defined function`);
    return this.evalCall(dot, fn, !MAAND_FUNCS.has(node.name), cmd, node.name, args, final);
  }

  private evalCall(dot: GoValue, fn: TemplateFunc, isBuiltin: boolean, node: AnyNode, name: string, cmdArgs: readonly ArgNode[] | null, final: Final): GoValue {
    const args = cmdArgs === null ? [] : cmdArgs.slice(1); // the first is the function itself
    const numIn = args.length + (final === MISSING ? 0 : 1);
    const numFixed = fn.variadic ? fn.params.length : args.length;
    if (fn.variadic) {
      if (numIn < numFixed) this.errorf(`wrong number of args for ${name}: want at least ${numFixed} got ${args.length}`);
    } else if (numIn !== fn.params.length) {
      this.errorf(`wrong number of args for ${name}: want ${fn.params.length} got ${numIn}`);
    }

    if (isBuiltin && (name === "and" || name === "or")) {
      // Stop at the first false (and) or true (or) argument and return it, unevaluated rest.
      let v: GoValue = undefined;
      for (const arg of args) {
        v = this.evalArg(dot, "any", arg);
        if (isTrue(v) === (name === "or")) return v;
      }
      if (final !== MISSING) v = this.validateType(final, "any");
      return v;
    }

    const argv: GoValue[] = new Array(numIn);
    let i = 0;
    for (; i < numFixed && i < args.length; i++) argv[i] = this.evalArg(dot, fn.params[i]!, args[i]!);
    if (fn.variadic) for (; i < args.length; i++) argv[i] = this.evalArg(dot, fn.variadic, args[i]!);
    if (final !== MISSING) {
      let type = fn.params[fn.params.length - 1]!;
      if (fn.variadic) type = numIn - 1 < numFixed ? fn.params[numIn - 1]! : fn.variadic;
      argv[i] = this.validateType(final, type);
    }
    try {
      return fn.call(argv, this.run.ctx);
    } catch (e) {
      if (!(e instanceof TemplateFuncError)) throw e;
      this.at(node);
      // Only the store's error is kept as the cause: the function's own message may hold a value.
      this.errorf(`error calling ${name}: ${e.message}`, { function: name, ...e.involved }, e.cause);
    }
  }

  /** Go's validateType: is value acceptable for a parameter of this type? */
  private validateType(value: GoValue, type: ParamType | null): GoValue {
    if (type === null || type === "any") return value;
    if (value === undefined) {
      if (type === "[]string") return NIL_STRINGS;
      this.errorf(`invalid value; expected ${type}`);
    }
    if (type === "string" ? typeof value === "string" : value instanceof GoSlice && value.elem === "string") return value;
    this.errorf(`wrong type for value; expected ${type}; got ${typeName(value)}`);
  }

  private evalArg(dot: GoValue, type: ParamType | null, n: ArgNode): GoValue {
    this.at(n);
    switch (n.kind) {
      case "dot":
        return this.validateType(dot, type);
      case "nil":
        if (type === "any") return undefined;
        if (type === "[]string") return NIL_STRINGS;
        this.errorf(`cannot assign nil to ${type}`);
      // falls through (errorf never returns)
      case "field":
        return this.validateType(this.evalFieldNode(dot, n, [n], MISSING), type);
      case "variable":
        return this.validateType(this.evalVariableNode(n, null, MISSING), type);
      case "pipe":
        return this.validateType(this.evalPipeline(dot, n), type);
      case "identifier":
        return this.validateType(this.evalFunction(dot, n, n, null, MISSING), type);
      case "chain":
        return this.validateType(this.evalChainNode(dot, n, null, MISSING), type);
    }
    // A literal: its type must suit the parameter.
    if (type === "string") {
      if (n.kind === "string") return n.text;
      this.errorf(`expected string; found ${nodeText(n)}`);
    }
    if (type === "[]string") this.errorf(`can't handle ${nodeText(n)} for arg of type []string`);
    switch (n.kind) {
      case "bool":
        return n.value;
      case "string":
        return n.text;
      case "number":
        return this.idealConstant(n);
    }
  }
}

/** Executes the tree named `name` of a parsed source with dot `data`; returns the output. */
export function execute(trees: TreeSet, source: string, file: string, name: string, data: GoValue, ctx: CallContext): string {
  const tree = trees.get(name);
  if (tree === undefined) throw new TemplateError({ file, line: 1, column: 1 }, `no template ${JSON.stringify(name)}`);
  const run: Run = { source, file, trees, ctx, out: "" };
  new State(run, tree, [{ name: "$", value: data }], 0).walk(data, tree.root);
  return run.out;
}
