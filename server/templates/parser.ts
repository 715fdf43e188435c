/**
 * The template parser: a port of Go 1.19's text/template/parse/parse.go, so that what Go rejects
 * at parse time (unknown function, undefined variable, {{end}} without a start, {{else with}},
 * {{break}} outside range, ...) maand rejects too, and what Go accepts maand accepts.
 */
import { TemplateError, lineAndColumn } from "./errors.js";
import { lex } from "./lexer.js";
import { TokenStream } from "./token-stream.js";
import { describeToken, Tok, type Token } from "./tokens.js";
import { idealConstant, LiteralError, parseNumber, unquote } from "./literals.js";
import { isEmptyTree, nodeText, type ArgNode, type BranchNode, type CommandNode, type ItemNode, type ListNode, type NumberNode, type PipeNode, type Tree, type VariableNode } from "./nodes.js";

/** What parsing needs to know besides the source. */
export interface ParseInput {
  source: string;
  /** The template's file name: the name of the top-level tree and of every error location. */
  file: string;
  hasFunction(name: string): boolean;
}

/** All trees of one source: the file's own and every {{define}} or {{block}} in it. */
export type TreeSet = Map<string, Tree>;

// Node kinds the parser passes around but never stores: {{end}} and {{else}}.
interface EndNode {
  kind: "end";
  pos: number;
}
interface ElseNode {
  kind: "else";
  pos: number;
}

/** One tree's parse state. {{define}} and {{block}} get their own, as in Go. */
class TreeParser {
  private vars = ["$"];
  private rangeDepth = 0;
  private actionLine = 0;

  constructor(
    private readonly input: ParseInput,
    private readonly t: TokenStream,
    private readonly trees: TreeSet,
    private name: string,
  ) {}

  errorf(message: string): never {
    const { line, column } = lineAndColumn(this.input.source, this.t.last.pos);
    throw new TemplateError({ file: this.input.file, line, column }, message);
  }

  private literal<T>(f: () => T): T {
    try {
      return f();
    } catch (e) {
      if (e instanceof LiteralError) this.errorf(e.message);
      throw e;
    }
  }

  private unexpected(token: Token, context: string): never {
    if (token.type === Tok.Error) {
      let extra = "";
      if (this.actionLine !== 0 && this.actionLine !== token.line) {
        extra = ` in action started at ${this.input.file}:${this.actionLine}`;
        if (token.val.endsWith(" action")) extra = extra.slice(" in action".length);
      }
      this.errorf(token.val + extra);
    }
    this.errorf(`unexpected ${describeToken(token)} in ${context}`);
  }

  private expect(type: Tok, context: string): Token {
    const token = this.t.nextNonSpace();
    if (token.type !== type) this.unexpected(token, context);
    return token;
  }

  /** The top level of the file: text and actions, with {{define}}s set aside. */
  parseFile(): void {
    const root = this.newList(this.t.peek().pos);
    while (this.t.peek().type !== Tok.EOF) {
      if (this.t.peek().type === Tok.LeftDelim) {
        const delim = this.t.next();
        if (this.t.nextNonSpace().type === Tok.Define) {
          new TreeParser(this.input, this.t, this.trees, "definition").parseDefinition();
          continue;
        }
        this.t.resumeAt(delim);
      }
      const n = this.textOrAction();
      if (n.kind === "end" || n.kind === "else") this.errorf(`unexpected {{${n.kind}}}`);
      root.nodes.push(n);
    }
    this.add(root);
  }

  private parseDefinition(): void {
    const context = "define clause";
    const token = this.t.nextNonSpace();
    if (token.type !== Tok.String && token.type !== Tok.RawString) this.unexpected(token, context);
    this.name = this.literal(() => unquote(token.val));
    this.expect(Tok.RightDelim, context);
    const { list, next } = this.itemList();
    if (next.kind !== "end") this.errorf(`unexpected {{${next.kind}}} in ${context}`);
    this.add(list);
  }

  /** Go's Tree.add: a later empty definition never replaces an earlier one; two non-empty ones clash. */
  private add(root: ListNode): void {
    const existing = this.trees.get(this.name);
    if (existing === undefined || isEmptyTree(existing.root)) {
      this.trees.set(this.name, { name: this.name, root });
      return;
    }
    if (!isEmptyTree(root)) this.errorf(`template: multiple definition of template ${JSON.stringify(this.name)}`);
  }

  private newList(pos: number): ListNode {
    return { kind: "list", pos, nodes: [] };
  }

  private itemList(): { list: ListNode; next: EndNode | ElseNode } {
    const list = this.newList(this.t.peekNonSpace().pos);
    while (this.t.peekNonSpace().type !== Tok.EOF) {
      const n = this.textOrAction();
      if (n.kind === "end" || n.kind === "else") return { list, next: n };
      list.nodes.push(n);
    }
    this.errorf("unexpected EOF");
  }

  private textOrAction(): ItemNode | EndNode | ElseNode {
    const token = this.t.nextNonSpace();
    switch (token.type) {
      case Tok.Text:
        return { kind: "text", pos: token.pos, text: token.val };
      case Tok.LeftDelim: {
        this.actionLine = token.line;
        try {
          return this.action();
        } finally {
          this.actionLine = 0;
        }
      }
    }
    this.unexpected(token, "input");
  }

  private action(): ItemNode | EndNode | ElseNode {
    const token = this.t.nextNonSpace();
    switch (token.type) {
      case Tok.Block:
        return this.blockControl();
      case Tok.Break:
      case Tok.Continue:
        return this.breakControl(token);
      case Tok.Else:
        return this.elseControl();
      case Tok.End:
        return { kind: "end", pos: this.expect(Tok.RightDelim, "end").pos };
      case Tok.If:
        return this.parseControl("if", true);
      case Tok.Range:
        return this.parseControl("range", false);
      case Tok.Template:
        return this.templateControl();
      case Tok.With:
        return this.parseControl("with", false);
    }
    this.t.backup();
    const pos = this.t.peek().pos;
    // Variables declared here persist until the enclosing {{end}}.
    return { kind: "action", pos, pipe: this.pipeline("command", Tok.RightDelim) };
  }

  private breakControl(keyword: Token): ItemNode {
    const kind = keyword.type === Tok.Break ? "break" : "continue";
    const token = this.t.nextNonSpace();
    if (token.type !== Tok.RightDelim) this.unexpected(token, `{{${kind}}}`);
    if (this.rangeDepth === 0) this.errorf(`{{${kind}}} outside {{range}}`);
    return { kind, pos: keyword.pos };
  }

  private elseControl(): ElseNode {
    const peek = this.t.peekNonSpace();
    // "{{else if ..." is read as "{{else}}{{if ...": leave the "if" for parseControl.
    if (peek.type === Tok.If) return { kind: "else", pos: peek.pos };
    return { kind: "else", pos: this.expect(Tok.RightDelim, "else").pos };
  }

  private parseControl(kind: BranchNode["kind"], allowElseIf: boolean): BranchNode {
    const varsBefore = this.vars.length;
    const pipe = this.pipeline(kind, Tok.RightDelim);
    if (kind === "range") this.rangeDepth++;
    let { list, next } = this.itemList();
    if (kind === "range") this.rangeDepth--;
    let elseList: ListNode | null = null;
    if (next.kind === "else") {
      if (allowElseIf && this.t.peek().type === Tok.If) {
        this.t.next();
        elseList = this.newList(next.pos);
        elseList.nodes.push(this.parseControl("if", true)); // Its {{end}} closes the whole chain.
      } else {
        ({ list: elseList, next } = this.itemList());
        if (next.kind !== "end") this.errorf(`expected end; found {{${next.kind}}}`);
      }
    }
    this.vars.length = varsBefore;
    return { kind, pos: pipe.pos, pipe, list, elseList };
  }

  private parseTemplateName(token: Token, context: string): string {
    if (token.type !== Tok.String && token.type !== Tok.RawString) this.unexpected(token, context);
    return this.literal(() => unquote(token.val));
  }

  private templateControl(): ItemNode {
    const context = "template clause";
    const token = this.t.nextNonSpace();
    const name = this.parseTemplateName(token, context);
    let pipe: PipeNode | null = null;
    if (this.t.nextNonSpace().type !== Tok.RightDelim) {
      this.t.backup();
      pipe = this.pipeline(context, Tok.RightDelim);
    }
    return { kind: "template", pos: token.pos, name, pipe };
  }

  private blockControl(): ItemNode {
    const context = "block clause";
    const token = this.t.nextNonSpace();
    const name = this.parseTemplateName(token, context);
    const pipe = this.pipeline(context, Tok.RightDelim);
    const block = new TreeParser(this.input, this.t, this.trees, name);
    const { list, next } = block.itemList();
    if (next.kind !== "end") this.errorf(`unexpected {{${next.kind}}} in ${context}`);
    block.add(list);
    return { kind: "template", pos: token.pos, name, pipe };
  }

  private pipeline(context: string, end: Tok): PipeNode {
    const pipe: PipeNode = { kind: "pipe", pos: this.t.peekNonSpace().pos, isAssign: false, decl: [], cmds: [] };
    for (;;) {
      const v = this.t.peekNonSpace();
      if (v.type !== Tok.Variable) break;
      this.t.next();
      // In "$x foo", $x is an argument; in "$x := foo" a declaration: look past the space.
      const next = this.t.peekNonSpace();
      if (next.type === Tok.Assign || next.type === Tok.Declare) {
        pipe.isAssign = next.type === Tok.Assign;
        this.t.nextNonSpace();
        pipe.decl.push(this.newVariable(v.pos, v.val));
        this.vars.push(v.val);
        break;
      }
      if (next.type === Tok.Char && next.val === ",") {
        this.t.nextNonSpace();
        pipe.decl.push(this.newVariable(v.pos, v.val));
        this.vars.push(v.val);
        if (context === "range" && pipe.decl.length < 2) {
          const second = this.t.peekNonSpace().type;
          if (second === Tok.Variable || second === Tok.RightDelim || second === Tok.RightParen) continue;
          this.errorf("range can only initialize variables");
        }
        this.errorf(`too many declarations in ${context}`);
      }
      this.t.resumeAt(v); // an argument, not a declaration
      break;
    }
    for (;;) {
      const token = this.t.nextNonSpace();
      if (token.type === end) {
        this.checkPipeline(pipe, context);
        return pipe;
      }
      switch (token.type) {
        case Tok.Bool:
        case Tok.CharConstant:
        case Tok.Complex:
        case Tok.Dot:
        case Tok.Field:
        case Tok.Identifier:
        case Tok.Number:
        case Tok.Nil:
        case Tok.RawString:
        case Tok.String:
        case Tok.Variable:
        case Tok.LeftParen:
          this.t.backup();
          pipe.cmds.push(this.command());
          continue;
      }
      this.unexpected(token, context);
    }
  }

  private checkPipeline(pipe: PipeNode, context: string): void {
    if (pipe.cmds.length === 0) this.errorf(`missing value for ${context}`);
    pipe.cmds.slice(1).forEach((c, i) => {
      const k = c.args[0]!.kind;
      if (k === "bool" || k === "dot" || k === "nil" || k === "number" || k === "string") this.errorf(`non executable command in pipeline stage ${i + 2}`);
    });
  }

  private command(): CommandNode {
    const cmd: CommandNode = { kind: "command", pos: this.t.peekNonSpace().pos, args: [] };
    for (;;) {
      this.t.peekNonSpace();
      const operand = this.operand();
      if (operand) cmd.args.push(operand);
      const token = this.t.next();
      if (token.type === Tok.Space) continue;
      if (token.type === Tok.RightDelim || token.type === Tok.RightParen) this.t.backup();
      else if (token.type !== Tok.Pipe) this.unexpected(token, "operand");
      break;
    }
    if (cmd.args.length === 0) this.errorf("empty command");
    return cmd;
  }

  private operand(): ArgNode | null {
    const node = this.term();
    if (node === null || this.t.peek().type !== Tok.Field) return node;
    const pos = this.t.peek().pos;
    const fields: string[] = [];
    while (this.t.peek().type === Tok.Field) fields.push(this.t.next().val.slice(1));
    switch (node.kind) {
      case "field":
        return { kind: "field", pos, ident: [...node.ident, ...fields] };
      case "variable":
        return { kind: "variable", pos, ident: [...node.ident, ...fields] };
      case "bool":
      case "string":
      case "number":
      case "nil":
      case "dot":
        this.errorf(`unexpected . after term ${JSON.stringify(nodeText(node))}`);
    }
    return { kind: "chain", pos, node, fields };
  }

  private term(): ArgNode | null {
    const token = this.t.nextNonSpace();
    switch (token.type) {
      case Tok.Identifier:
        if (!this.input.hasFunction(token.val)) this.errorf(`function ${JSON.stringify(token.val)} not defined`);
        return { kind: "identifier", pos: token.pos, name: token.val };
      case Tok.Dot:
        return { kind: "dot", pos: token.pos };
      case Tok.Nil:
        return { kind: "nil", pos: token.pos };
      case Tok.Variable:
        return this.useVar(token);
      case Tok.Field:
        return { kind: "field", pos: token.pos, ident: [token.val.slice(1)] };
      case Tok.Bool:
        return { kind: "bool", pos: token.pos, value: token.val === "true" };
      case Tok.Complex:
        this.errorf(`complex number ${token.val} is not supported`);
      // falls through (errorf never returns)
      case Tok.CharConstant:
      case Tok.Number:
        return this.number(token);
      case Tok.LeftParen:
        return this.pipeline("parenthesized pipeline", Tok.RightParen);
      case Tok.String:
      case Tok.RawString:
        return { kind: "string", pos: token.pos, quoted: token.val, text: this.literal(() => unquote(token.val)) };
    }
    this.t.backup();
    return null;
  }

  private number(token: Token): NumberNode {
    const text = token.val;
    if (text.endsWith("i") && token.type === Tok.Number) this.errorf(`complex number ${text} is not supported`);
    const n = this.literal(() => parseNumber(text, token.type === Tok.CharConstant));
    return { kind: "number", pos: token.pos, text, ideal: idealConstant(text, n) };
  }

  private newVariable(pos: number, name: string): VariableNode {
    return { kind: "variable", pos, ident: name.split(".") };
  }

  private useVar(token: Token): VariableNode {
    const v = this.newVariable(token.pos, token.val);
    if (!this.vars.includes(v.ident[0]!)) this.errorf(`undefined variable ${JSON.stringify(v.ident[0])}`);
    return v;
  }
}

/** Parses source into its trees; throws TemplateError where Go's parser fails. */
export function parse(input: ParseInput): TreeSet {
  const trees: TreeSet = new Map();
  new TreeParser(input, new TokenStream(lex(input.source)), trees, input.file).parseFile();
  return trees;
}
