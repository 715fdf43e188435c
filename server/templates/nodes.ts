/**
 * The parse tree, shaped like text/template/parse's nodes. `pos` is the UTF-16 offset of the node
 * in the template source; `nodeText` renders a node the way Go's String() does, for error messages.
 */
import { trimSpace } from "./go-strings.js";
import type { GoValue } from "./values.js";

export interface TextNode {
  kind: "text";
  pos: number;
  text: string;
}

export interface ActionNode {
  kind: "action";
  pos: number;
  pipe: PipeNode;
}

export interface BranchNode {
  kind: "if" | "range" | "with";
  pos: number;
  pipe: PipeNode;
  list: ListNode;
  elseList: ListNode | null;
}

export interface TemplateNode {
  kind: "template";
  pos: number;
  name: string;
  pipe: PipeNode | null;
}

export interface BreakNode {
  kind: "break" | "continue";
  pos: number;
}

export interface ListNode {
  kind: "list";
  pos: number;
  nodes: ItemNode[];
}

/** What a list holds. */
export type ItemNode = TextNode | ActionNode | BranchNode | TemplateNode | BreakNode;

export interface PipeNode {
  kind: "pipe";
  pos: number;
  /** True for `$x = ...`, false for `$x := ...` (and for no declaration). */
  isAssign: boolean;
  decl: VariableNode[];
  cmds: CommandNode[];
}

export interface CommandNode {
  kind: "command";
  pos: number;
  args: ArgNode[];
}

export interface FieldNode {
  kind: "field";
  pos: number;
  /** `.A.B` is ["A", "B"]. */
  ident: string[];
}

export interface VariableNode {
  kind: "variable";
  pos: number;
  /** `$x.A` is ["$x", "A"]. */
  ident: string[];
}

export interface IdentifierNode {
  kind: "identifier";
  pos: number;
  name: string;
}

/** A term followed by fields, e.g. `(get "a" "b").X`. */
export interface ChainNode {
  kind: "chain";
  pos: number;
  node: ArgNode;
  fields: string[];
}

export interface DotNode {
  kind: "dot";
  pos: number;
}

export interface NilNode {
  kind: "nil";
  pos: number;
}

export interface BoolNode {
  kind: "bool";
  pos: number;
  value: boolean;
}

export interface StringNode {
  kind: "string";
  pos: number;
  /** The literal as written, quotes included. */
  quoted: string;
  text: string;
}

export interface NumberNode {
  kind: "number";
  pos: number;
  text: string;
  /**
   * The value where no parameter type guides it (exec.go idealConstant): int, or float64 when
   * the literal has a '.', exponent or 'p'. A string is the error for a literal that overflows int.
   */
  ideal: { value: GoValue } | { overflow: string };
}

export type ArgNode = FieldNode | VariableNode | IdentifierNode | ChainNode | PipeNode | DotNode | NilNode | BoolNode | StringNode | NumberNode;

export type AnyNode = ItemNode | ListNode | PipeNode | CommandNode | ArgNode;

/** A parsed template: the file itself or one {{define}}d inside it. */
export interface Tree {
  name: string;
  root: ListNode;
}

function pipeText(p: PipeNode): string {
  const decl = p.decl.length ? p.decl.map((v) => v.ident.join(".")).join(", ") + " := " : "";
  return decl + p.cmds.map(commandText).join(" | ");
}

function commandText(c: CommandNode): string {
  return c.args.map((a) => (a.kind === "pipe" ? `(${pipeText(a)})` : nodeText(a))).join(" ");
}

/** Go's String() of a node: the context shown in `executing "t" at <...>`. */
export function nodeText(n: AnyNode): string {
  switch (n.kind) {
    case "text":
      return JSON.stringify(n.text);
    case "action":
      return `{{${pipeText(n.pipe)}}}`;
    case "if":
    case "range":
    case "with":
      return `{{${n.kind} ${pipeText(n.pipe)}}}${nodeText(n.list)}${n.elseList ? `{{else}}${nodeText(n.elseList)}` : ""}{{end}}`;
    case "template":
      return `{{template ${JSON.stringify(n.name)}${n.pipe ? " " + pipeText(n.pipe) : ""}}}`;
    case "break":
    case "continue":
      return `{{${n.kind}}}`;
    case "list":
      return n.nodes.map(nodeText).join("");
    case "pipe":
      return pipeText(n);
    case "command":
      return commandText(n);
    case "field":
      return n.ident.map((i) => "." + i).join("");
    case "variable":
      return n.ident.join(".");
    case "identifier":
      return n.name;
    case "chain":
      return (n.node.kind === "pipe" ? `(${pipeText(n.node)})` : nodeText(n.node)) + n.fields.map((f) => "." + f).join("");
    case "dot":
      return ".";
    case "nil":
      return "nil";
    case "bool":
      return String(n.value);
    case "string":
      return n.quoted;
    case "number":
      return n.text;
  }
}

/** parse.IsEmptyTree: only whitespace text (and comments, which are not kept). */
export function isEmptyTree(list: ListNode): boolean {
  return list.nodes.every((n) => n.kind === "text" && trimSpace(n.text) === "");
}
