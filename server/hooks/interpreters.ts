import { accessSync, constants, realpathSync, statSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { delimiter, dirname, extname, join } from "node:path";
import { bundledBun } from "./package-files.js";

export type InterpreterKind = "python" | "bun";

export function scriptKind(script: string): InterpreterKind | undefined {
  const ext = extname(script);
  if (ext === ".py") return "python";
  if (ext === ".ts" || ext === ".js") return "bun";
  return undefined;
}

/** Resolution is memoised per run: each candidate is probed at most once. */
export interface InterpreterResolver {
  /** The executable for a hook script of `job`, or a problem to report before anything runs. */
  resolve(job: string, script: string): { path: string } | { problem: string };
}

export interface ResolverOptions {
  /** workspace/jobs */
  jobsDir: string;
  /** PATH to search; defaults to the process's. */
  path?: string;
  /** Bun installed with maand (tests may point elsewhere). */
  bundledBun?: () => string | undefined;
}

/**
 * SPEC §7.3 order: the job's `_hooks/.venv`, then `_hooks/venv`, then python3 on PATH; Bun from
 * PATH, then the one installed with maand. Interpreters found on PATH are resolved to their
 * real executable once (version-manager shims such as pyenv's cost ~45 ms per spawn); a venv's
 * python3 is used as it is, because its path is what makes it a venv.
 */
export function interpreterResolver(options: ResolverOptions): InterpreterResolver {
  const pathVar = options.path ?? process.env.PATH ?? "";
  const probed = new Map<string, { path: string } | { problem: string }>();
  const memo = (key: string, f: () => { path: string } | { problem: string }) => {
    let r = probed.get(key);
    if (!r) probed.set(key, (r = f()));
    return r;
  };

  const pathPython = () =>
    memo("python3@PATH", () => {
      const found = which("python3", pathVar);
      if (!found) return { problem: "python3 not found on PATH (and no _hooks/.venv or _hooks/venv in the job)" };
      return realExecutable(found, ["-c", "import sys; sys.stdout.write(sys.executable)"]);
    });

  const bun = () =>
    memo("bun", () => {
      const found = which("bun", pathVar);
      if (found) return realExecutable(found, ["-e", "process.stdout.write(process.execPath)"]);
      const shipped = (options.bundledBun ?? bundledBun)();
      if (shipped) return { path: realpathSync(shipped) };
      return { problem: "bun not found on PATH, and the Bun installed with maand is missing (reinstall maand)" };
    });

  return {
    resolve(job, script) {
      const kind = scriptKind(script);
      if (kind === "bun") return bun();
      if (kind !== "python") return { problem: `${script}: hook scripts must end in .py, .ts or .js` };
      for (const venv of [".venv", "venv"]) {
        // Beside the script: _hooks/, or _modules/ for an original maand job (its venvs lived there).
        const candidate = join(options.jobsDir, job, dirname(script), venv, "bin", "python3");
        if (isExecutable(candidate)) return { path: candidate };
      }
      return pathPython();
    },
  };
}

function realExecutable(found: string, probeArgs: string[]): { path: string } | { problem: string } {
  const r = spawnSync(found, probeArgs, { encoding: "utf8", timeout: 30_000, stdio: ["ignore", "pipe", "pipe"] });
  if (r.status !== 0) {
    const why = r.error?.message ?? (r.stderr.trim().split("\n").pop() || `exit code ${r.status}`);
    return { problem: `${found} does not run: ${why}` };
  }
  const real = r.stdout.trim();
  return { path: real && isExecutable(real) ? real : found };
}

function which(name: string, pathVar: string): string | undefined {
  for (const dir of pathVar.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}
