import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import type { FileProblems } from "./problems.js";
import { NAME_EXPECTED, NAME_PATTERN } from "./names.js";
import { displayName } from "./json-path.js";
import { entryName } from "./entry-name.js";

/**
 * Job directory names under workspace/jobs/, sorted. Hidden entries (.git, .DS_Store) are
 * ignored; anything else that is not a well-named directory is reported.
 */
export function listJobDirs(p: FileProblems, jobsDir: string): string[] {
  let raw: Buffer[];
  try {
    raw = readdirSync(jobsDir, { encoding: "buffer" });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== "ENOENT") p.add(".", `cannot be listed (${code ?? String(err)})`);
    return [];
  }
  const jobs: string[] = [];
  for (const bytes of raw) {
    const entry = entryName(bytes);
    if ("notUtf8" in entry) {
      p.add(".", `holds a name that is not valid UTF-8 ("${entry.notUtf8}"); expected job directories named ${NAME_EXPECTED}`);
      continue;
    }
    const name = entry.text;
    if (name.startsWith(".")) continue;
    let isDir = false;
    try {
      isDir = statSync(join(jobsDir, name)).isDirectory();
    } catch {
      // dangling symlink: reported below as "not a directory"
    }
    if (!isDir) p.add(displayName(name), "is not a directory; expected only job directories in workspace/jobs/");
    else if (!NAME_PATTERN.test(name)) p.add(`${displayName(name)}/`, `is not a valid job name; expected ${NAME_EXPECTED}`, name);
    else jobs.push(name);
  }
  return jobs.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
