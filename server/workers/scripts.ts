import { readFileSync } from "node:fs";
import { join } from "node:path";
import { packageRoot } from "../hooks/package-files.js";

/**
 * The Python programs maand runs on workers. They live as real .py files beside this module
 * (server/workers/), so they are linted, read and tested as Python; maand reads them from its
 * package, wherever it is installed.
 */
export interface WorkerScripts {
  /** Installed as /opt/worker/<bucket_id>/bin/runner.py. */
  runner: string;
  /** Sync round-trip 2: unpacks a tar beside the targets, renames, deletes, writes layout files. */
  apply: string;
  /** Signals the process groups of aborted commands. */
  kill: string;
}

/**
 * How maand starts python3 on a worker. -E ignores PYTHON* variables of the login environment
 * (a PYTHONPATH there must not change what runs); -S skips site-packages, which maand's
 * scripts never need and which costs a noticeable part of interpreter start-up.
 */
export const PYTHON_ARGV: readonly string[] = ["python3", "-E", "-S"];

/** argv running a helper script on a worker. */
export const helperArgv = (script: string, ...args: string[]): string[] => [...PYTHON_ARGV, "-c", script, ...args];

export function loadWorkerScripts(root: string = packageRoot()): WorkerScripts {
  const dir = join(root, "server", "workers");
  const read = (rel: string) => readFileSync(join(dir, rel), "utf8");
  return { runner: read("runner.py"), apply: read("remote/apply.py"), kill: read("remote/kill.py") };
}
