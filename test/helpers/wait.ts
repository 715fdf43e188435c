import { readFileSync } from "node:fs";

/**
 * Polls until `cond` becomes true. For conditions that must *become* true only: a test that
 * needs something *not* to happen waits for the event that proves it instead.
 */
export async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = "condition"): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The state letter of /proc/<pid>/stat (R, S, T = stopped, Z = zombie, ...); "" once it is gone. */
export function processState(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    // "pid (comm) state ...": comm may hold spaces and parentheses, so the last ")" counts.
    return stat.charAt(stat.lastIndexOf(")") + 2);
  } catch {
    return "";
  }
}

/** Whether a process is running (a zombie is not: it has exited and only awaits reaping). */
export function processRunning(pid: number): boolean {
  const state = processState(pid);
  return state !== "" && state !== "Z" && state !== "X";
}
