/**
 * The lexer's vocabulary: token types (Go's itemType, keywords last), the token record, and the
 * character classes Go's lexer uses.
 */
export enum Tok {
  Error,
  Bool,
  Char,
  CharConstant,
  Complex,
  Assign,
  Declare,
  EOF,
  Field,
  Identifier,
  LeftDelim,
  LeftParen,
  Number,
  Pipe,
  RawString,
  RightDelim,
  RightParen,
  Space,
  String,
  Text,
  Variable,
  // Keywords: everything after Keyword.
  Keyword,
  Block,
  Break,
  Continue,
  Dot,
  Define,
  Else,
  End,
  If,
  Nil,
  Range,
  Template,
  With,
}

export interface Token {
  type: Tok;
  /** UTF-16 offset of the token in the source. */
  pos: number;
  /** The token's text; for Error tokens, the message. */
  val: string;
  /** 1-based line the token starts on. */
  line: number;
  /** Index in the token list, so the parser can push tokens back. */
  index: number;
}

export const KEYWORDS: ReadonlyMap<string, Tok> = new Map([
  [".", Tok.Dot],
  ["block", Tok.Block],
  ["break", Tok.Break],
  ["continue", Tok.Continue],
  ["define", Tok.Define],
  ["else", Tok.Else],
  ["end", Tok.End],
  ["if", Tok.If],
  ["range", Tok.Range],
  ["nil", Tok.Nil],
  ["template", Tok.Template],
  ["with", Tok.With],
]);

/** What the lexer's next() returns at the end of input. */
export const EOF = -1;

export function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a;
}

const LETTER_OR_DIGIT = /^[\p{L}\p{Nd}]$/u;

/** Go's isAlphaNumeric: '_', a Unicode letter or a Unicode decimal digit. */
export function isAlphaNumeric(c: number): boolean {
  if (c < 0x80) return c === 0x5f || (c >= 0x30 && c <= 0x39) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a);
  return c !== EOF && LETTER_OR_DIGIT.test(String.fromCodePoint(c));
}

/** Go's %#U, used in lexer messages: U+0023 '#'. */
export function formatRune(c: number): string {
  const hex = "U+" + c.toString(16).toUpperCase().padStart(4, "0");
  return /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u.test(String.fromCodePoint(c)) ? `${hex} '${String.fromCodePoint(c)}'` : hex;
}

/** How Go's parser names a token in "unexpected X in Y" messages. */
export function describeToken(t: Token): string {
  if (t.type === Tok.EOF) return "EOF";
  if (t.type === Tok.Error) return t.val;
  if (t.type > Tok.Keyword) return `<${t.val}>`;
  const chars = Array.from(t.val);
  return chars.length > 10 ? `${JSON.stringify(chars.slice(0, 10).join(""))}...` : JSON.stringify(t.val);
}
