import { randomBytes } from "node:crypto";
import { chmodSync, lstatSync, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import type { BucketPaths } from "../bucket/paths.js";
import { MaandError, UsageError } from "../errors.js";
import { escapeText } from "../text/escape.js";
import { NAME_EXPECTED, NAME_PATTERN } from "../workspace/names.js";
import { jobScaffold, type ScaffoldFile } from "./job-files.js";

export interface CreatedJob {
  job: string;
  /** Relative to the bucket root. */
  dir: string;
  selectors: string[];
  files: ScaffoldFile[];
}

/** `--selectors a,b`: worker labels; undefined = the job name (SPEC §4's default, written out). */
export function parseSelectors(raw: string | undefined, job: string): string[] {
  if (raw === undefined) return [job];
  const labels = raw.split(",").map((s) => s.trim());
  if (labels.some((l) => !NAME_PATTERN.test(l))) {
    throw new UsageError(`--selectors ${escapeText(JSON.stringify(raw))}: expected comma-separated worker labels, each ${NAME_EXPECTED}, e.g. --selectors api,worker`);
  }
  return [...new Set(labels)];
}

/**
 * Writes workspace/jobs/<job>/ from the scaffold. Refuses a bad name or an existing entry,
 * changing nothing. The files are written into a hidden sibling first (build ignores hidden
 * entries) and renamed into place, so an interrupted create leaves no half-made job to build.
 */
export function createJob(paths: BucketPaths, job: string, selectorsFlag: string | undefined): CreatedJob {
  if (!NAME_PATTERN.test(job)) {
    throw new UsageError(`job name ${escapeText(JSON.stringify(job))}: expected ${NAME_EXPECTED}, e.g. maand job create api`);
  }
  const selectors = parseSelectors(selectorsFlag, job);
  const target = join(paths.jobs, job);
  const dir = relative(paths.root, target);
  if (exists(target)) throw new MaandError(`job ${job} already exists (${dir}); pick another name, or edit its files there`);

  const files = jobScaffold(job, selectors);
  mkdirSync(paths.jobs, { recursive: true });
  const staging = join(paths.jobs, `.${job}.creating-${randomBytes(4).toString("hex")}`);
  try {
    for (const f of files) {
      const file = join(staging, f.path);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, f.content);
      chmodSync(file, f.mode); // exact, whatever the umask
    }
    if (exists(target)) throw new MaandError(`job ${job} was created by someone else meanwhile (${dir}); nothing written`);
    renameSync(staging, target);
  } catch (err) {
    rmSync(staging, { recursive: true, force: true });
    if (err instanceof MaandError) throw err;
    throw new MaandError(`cannot create ${dir}: ${(err as NodeJS.ErrnoException).code ?? String(err)}; check that workspace/jobs/ is writable`);
  }
  return { job, dir, selectors, files };
}

/** lstat: a dangling symlink named like the job is an existing entry too. */
function exists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}
