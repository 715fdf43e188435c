import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root, from dist/test/helpers/. */
export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
export const MAAND_BIN = join(REPO, "bin", "maand.js");

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** `node bin/maand.js --bucket ROOT ...args` as a real process. */
export function maand(root: string, ...args: string[]): CliResult {
  const r = spawnSync(process.execPath, [MAAND_BIN, "--bucket", root, ...args], { encoding: "utf8", timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

export function maandAsync(root: string, ...args: string[]): ChildProcess {
  return spawn(process.execPath, [MAAND_BIN, "--bucket", root, ...args], { stdio: ["ignore", "pipe", "pipe"] });
}

export function collect(child: ChildProcess): Promise<CliResult> {
  let stdout = "";
  let stderr = "";
  child.stdout?.setEncoding("utf8").on("data", (d: string) => (stdout += d));
  child.stderr?.setEncoding("utf8").on("data", (d: string) => (stderr += d));
  return new Promise((res) => child.on("close", (status) => res({ status, stdout, stderr })));
}

/** The `{"error": {message, code, detail}}` a command printed under --json: the last line of stderr (warnings come before it). */
export function jsonError<D = unknown>(stderr: string): { message: string; code: string; detail?: D } {
  const lines = stderr.trimEnd().split("\n");
  return (JSON.parse(lines[lines.length - 1]!) as { error: { message: string; code: string; detail?: D } }).error;
}
