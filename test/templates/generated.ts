/**
 * Cases generated from small grids, on top of the hand-written corpus: every printf verb against
 * every kind of value and a spread of flags, and every placement of trim markers around every
 * kind of whitespace. Deterministic, so a failure names the same case every run.
 */
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
