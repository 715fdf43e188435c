/**
 * The differential corpus (test/templates/corpus/): themed JSON files of cases plus realistic
 * .tpl files, all run with corpus/defaults.json unless a case overrides data, kv or deny.
 */
import { readdirSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { REPO } from "../helpers/cli.js";

export const CORPUS_DIR = join(REPO, "test", "templates", "corpus");

export interface CorpusCase {
  /** The corpus file it comes from, e.g. "trim.json". */
  file: string;
  name: string;
  /** The template's file name as errors show it. */
  templateName: string;
  source: string;
  /**
   * What Go does with it: the corpus states it, so a broken oracle cannot pass unnoticed.
   * Generated cases ("any") leave it to Go.
   */
  expect: "output" | "error" | "any";
  /** Run with Tags and Ports map fields on the dot (Go: MapData). */
  withMaps: boolean;
  data: Record<string, unknown>;
  kv: Record<string, Record<string, string>>;
  deny: string[];
  ownJob: string;
}

interface Defaults {
  data: Record<string, unknown>;
  kv: Record<string, Record<string, string>>;
  deny: string[];
  ownJob: string;
}

interface CaseFile {
  cases: { name: string; source: string; expect?: "error"; withMaps?: boolean; data?: Record<string, unknown>; kv?: Defaults["kv"]; deny?: string[] }[];
}

const read = (path: string) => JSON.parse(readFileSync(path, "utf8")) as unknown;

export function corpusDefaults(): Defaults {
  return read(join(CORPUS_DIR, "defaults.json")) as Defaults;
}

export function loadCorpus(): CorpusCase[] {
  const d = corpusDefaults();
  const out: CorpusCase[] = [];
  for (const file of readdirSync(CORPUS_DIR).sort()) {
    if (!file.endsWith(".json") || file === "defaults.json") continue;
    for (const c of (read(join(CORPUS_DIR, file)) as CaseFile).cases) {
      out.push({
        file,
        name: c.name,
        templateName: "t.tpl",
        source: c.source,
        expect: c.expect === "error" ? "error" : "output",
        withMaps: c.withMaps ?? false,
        data: { ...d.data, ...c.data },
        kv: c.kv ?? d.kv,
        deny: c.deny ?? d.deny,
        ownJob: d.ownJob,
      });
    }
  }
  for (const file of readdirSync(join(CORPUS_DIR, "files")).sort()) {
    if (!file.endsWith(".tpl")) continue;
    const source = readFileSync(join(CORPUS_DIR, "files", file), "utf8");
    out.push({ file: "files/", name: file, templateName: basename(file), source, expect: "output", withMaps: false, data: d.data, kv: d.kv, deny: d.deny, ownJob: d.ownJob });
  }
  return out;
}
