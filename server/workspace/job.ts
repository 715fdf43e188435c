import { realpathSync } from "node:fs";
import { join } from "node:path";
import type { JobFile, Vars } from "./model.js";
import type { Problems } from "./problems.js";
import { readJobFiles } from "./job-files.js";
import { overlapsPrivateDir, type BucketGuard } from "./bucket-guard.js";
import { parseManifest, type Manifest } from "./manifest.js";
import { parseJson } from "./source-file.js";
import { parseToml, toVars } from "./toml-vars.js";

export const MANIFEST_FILE = "manifest.json";
export const JOB_VARS_FILE = "vars.toml";

export interface JobRead {
  name: string;
  /** Relative to the bucket root, e.g. "workspace/jobs/api". */
  dir: string;
  files: JobFile[];
  manifest?: Manifest;
  vars: Vars;
}

/** One job directory: its files, manifest and vars.toml (read from the walked files, not twice). */
export function readJob(problems: Problems, jobsDir: string, relJobsDir: string, name: string, guard?: BucketGuard): JobRead {
  const dir = `${relJobsDir}/${name}`;
  const abs = join(jobsDir, name);
  const real = realpathSync(abs);
  const overlap = guard && overlapsPrivateDir(guard, real);
  if (overlap) {
    // A job directory linked to secrets/ (or to the bucket root) would put kv.key into maand.db.
    problems.in(dir).add(".", `resolves to ${real}, which overlaps the bucket's own ${overlap}; expected a job directory of its own (job files are copied into maand.db)`);
    return { name, dir, files: [], vars: {} };
  }
  const files = readJobFiles(problems.in(dir), abs, guard);
  const byPath = new Map(files.map((f) => [f.path, f]));
  const mp = problems.in(`${dir}/${MANIFEST_FILE}`);
  const manifestFile = byPath.get(MANIFEST_FILE);
  let manifest: Manifest | undefined;
  if (!manifestFile) mp.add("$", "is missing; expected a manifest.json in every job directory (at least {})");
  else {
    const doc = parseJson(mp, manifestFile.content.toString("utf8"));
    if (doc.status === "ok") manifest = parseManifest(mp, doc.value, name, new Set(byPath.keys()));
  }
  const varsFile = byPath.get(JOB_VARS_FILE);
  const table = varsFile ? parseToml(problems.in(`${dir}/${JOB_VARS_FILE}`), varsFile.content.toString("utf8")) : undefined;
  return { name, dir, files, manifest, vars: table ? toVars(table) : {} };
}
