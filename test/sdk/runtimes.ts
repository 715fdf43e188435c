import { existsSync, readdirSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { repoRoot } from "../../codegen/paths.js";

/** The interpreters the SDK tests run real scripts with. */

export const ROOT = repoRoot();
export const BUN = join(ROOT, "node_modules", ".bin", "bun");

/**
 * python3 on PATH, plus the oldest Python the SDK promises (3.9) when one is installed, so the
 * "Python >= 3.9, standard library only" claim is checked where it can be.
 */
export async function pythons(): Promise<Array<{ label: string; bin: string }>> {
  const found = [{ label: "python3", bin: "python3" }];
  const candidates = ["python3.9"];
  const pyenv = join(homedir(), ".pyenv", "versions");
  if (existsSync(pyenv)) {
    for (const v of readdirSync(pyenv).filter((d) => d.startsWith("3.9.")).sort()) candidates.push(join(pyenv, v, "bin", "python3"));
  }
  for (const bin of candidates) {
    const r = await execa(bin, ["-c", "import sys; print('%d.%d' % sys.version_info[:2])"], { reject: false });
    if (r.exitCode === 0 && r.stdout.trim() === "3.9") {
      found.push({ label: "python3.9", bin });
      break;
    }
  }
  return found;
}

export interface Ran {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Runs a real process (asynchronously: the API under test lives in this process). */
export async function run(bin: string, args: string[], options: { cwd?: string; env?: Record<string, string> } = {}): Promise<Ran> {
  const r = await execa(bin, args, { cwd: options.cwd, env: options.env, extendEnv: false, reject: false, timeout: 60_000 });
  return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
}

/** PATH and HOME only: scripts must get everything else from what the test passes. */
export const baseEnv = (): Record<string, string> => ({ PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "" });

export const explain = (r: Ran): string => `exit ${r.exitCode}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
