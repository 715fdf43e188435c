import type { Token } from "./tokens.js";
import { Tok } from "./tokens.js";

/**
 * The parser's view of the token list: Go's three-token lookahead (next, backup, peek and their
 * space-skipping forms) over an array, which makes Go's backup2/backup3 a rewind.
 */
export class TokenStream {
  private idx = 0;
  /** The furthest token read: Go reports parse errors at it. */
  last: Token;

  constructor(private readonly items: Token[]) {
    this.last = items[0]!;
  }

  next(): Token {
    const t = this.items[Math.min(this.idx++, this.items.length - 1)]!;
    if (t.index > this.last.index) this.last = t;
    return t;
  }

  backup(): void {
    this.idx--;
  }

  /** Go's backup2/backup3: resume reading at t. */
  resumeAt(t: Token): void {
    this.idx = t.index;
  }

  peek(): Token {
    const t = this.next();
    this.backup();
    return t;
  }

  nextNonSpace(): Token {
    let t = this.next();
    while (t.type === Tok.Space) t = this.next();
    return t;
  }

  peekNonSpace(): Token {
    const t = this.nextNonSpace();
    this.backup();
    return t;
  }
}
