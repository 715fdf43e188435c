/**
 * Cases generated from small grids, on top of the hand-written corpus: every printf verb against
 * every kind of value and a spread of flags, and every placement of trim markers around every
 * kind of whitespace. Deterministic, so a failure names the same case every run.
 */
import { mulberry32 } from "../helpers/rng.js";
import { corpusDefaults, type CorpusCase } from "./corpus.js";

const VALUES = ["1", "-42", "0", "9223372036854775807", "3.14159", "-0.5", "2.5", "1e21", "1e-7", "0.0", '"héllo"', '""', '"a\\tb\\x00\\u2028"', "true", ".Labels", "(index \"a\" 0)", "nil", ".", "'😀'", "1114112"];
const VERBS = ["v", "d", "s", "q", "x", "X", "o", "O", "b", "c", "U", "e", "E", "f", "F", "g", "G", "t", "T", "z"];
const FLAGS = ["", "-", "+", "#", " ", "0", "+#", "-0", " #"];
const WIDTHS = ["", "6", "1"];
const PRECISIONS = ["", ".0", ".2", "."];

function generated(file: string, name: string, source: string): CorpusCase {
  const d = corpusDefaults();
  return { file, name, templateName: "t.tpl", source, expect: "any", withMaps: false, data: d.data, kv: d.kv, deny: d.deny, ownJob: d.ownJob };
}

export function printfMatrix(): CorpusCase[] {
  const out: CorpusCase[] = [];
  // Every verb on every value, plain, then each value with a rotating flag/width/precision mix.
  for (const value of VALUES) for (const verb of VERBS) out.push(generated("generated printf", `%${verb} ${value}`, `{{printf "[%${verb}]" ${value}}}`));
  let k = 0;
  for (const value of VALUES) {
    for (const verb of VERBS) {
      const spec = FLAGS[k % FLAGS.length]! + WIDTHS[k % WIDTHS.length]! + PRECISIONS[(k >> 1) % PRECISIONS.length]!;
      k++;
      out.push(generated("generated printf", `%${spec}${verb} ${value}`, `{{printf "[%${spec}${verb}]" ${value}}}`));
    }
  }
  return out;
}

const SPACES = ["", " ", "\n", " \t\r\n ", "\n\n"];
// « and » mark where the left and right trim markers go.
const ACTIONS = ["{{«.Job»}}", "{{«/* c */»}}", "{{«if .Job»}}x{{«end »}}", "{{«range .Labels»}}[{{«.»}}]{{«end »}}"];

export function trimMatrix(): CorpusCase[] {
  const out: CorpusCase[] = [];
  for (const action of ACTIONS) {
    for (const left of ["", "- "]) {
      for (const right of ["", " -"]) {
        for (const before of SPACES) {
          for (const after of SPACES) {
            const source = `a${before}${action.replaceAll("«", left).replaceAll("»", right)}${after}b`;
            out.push(generated("generated trim", JSON.stringify(source), source));
          }
        }
      }
    }
  }
  return out;
}

// Random templates from a small grammar of atoms, calls, pipes, trim markers and control
// structures, seeded so every run generates the same ones (mulberry32).
const ATOMS = [".Job", ".AllocationIndex", ".Labels", ".", "$", "$x", "1", "0", "-3", "2.5", "1e3", '"a"', '""', '"héllo"', "'z'", "true", "nil", '(index "ab" 1)', '(split "a,b" ",")', '(keys "vars/job/app")', '(get "vars/job/app" "port")', '(getOptional "vars/job/app" "x")', "0x10", "`raw`"];
const UNARY = ["len", "not", "int", "upper", "lower", "trim", "print", "println", "html", "js", "urlquery", "index", "slice", "and", "or"];
const BINARY = ["eq", "ne", "lt", "le", "gt", "ge", "add", "sub", "mul", "div", "min", "max", "index", "slice", "and", "or", "split", "join", "printf", "print", "get", "getOptional"];
const PIPED = [...UNARY, 'printf "%v"', 'printf "%5.2f"', 'printf "%q"', "add 1", "eq 1"];

export function randomTemplates(count: number, seed: number): CorpusCase[] {
  const r = mulberry32(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const ws = () => pick(["", " ", "\n", " \n\t"]);
  const open = () => pick(["{{", "{{", "{{- "]);
  const close = () => pick(["}}", "}}", " -}}"]);
  const expr = (d: number): string => {
    const x = r();
    if (d > 2 || x < 0.4) return pick(ATOMS);
    if (x < 0.6) return `(${pick(UNARY)} ${expr(d + 1)})`;
    if (x < 0.85) return `(${pick(BINARY)} ${expr(d + 1)} ${expr(d + 1)})`;
    return `(${expr(d + 1)} | ${pick(PIPED)})`;
  };
  const body = (d: number): string => {
    let out = "";
    const n = 1 + Math.floor(r() * 3);
    for (let i = 0; i < n; i++) {
      const x = r();
      if (x < 0.3) out += ws() + pick(["x", "y z", "", "\t"]) + ws();
      else if (x < 0.6) out += open() + (r() < 0.5 ? expr(0).replace(/^\((.*)\)$/s, "$1") : expr(0)) + close();
      else if (x < 0.7 && d < 2) out += `${open()}if ${expr(0)}${close()}${body(d + 1)}${r() < 0.5 ? `${open()}else${close()}${body(d + 1)}` : ""}${open()}end${close()}`;
      else if (x < 0.8 && d < 2) out += `${open()}range ${pick(["", "$i, $v := ", "$v := "])}${pick([".Labels", '(split "p,q" ",")', '(keys "vars/bucket")'])}${close()}${body(d + 1)}${open()}${pick(["", "break", "continue", "$x = $i"])}${close()}${open()}end${close()}`;
      else if (x < 0.9 && d < 2) out += `${open()}with ${expr(0)}${close()}${body(d + 1)}${open()}end${close()}`;
      else out += `${open()}$x = ${expr(0)}${close()}`;
    }
    return out;
  };
  return Array.from({ length: count }, (_, i) => {
    const source = "{{$x := 0}}" + body(0);
    return generated("generated random", `#${i}: ${JSON.stringify(source)}`, source);
  });
}
