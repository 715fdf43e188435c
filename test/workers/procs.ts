import { readdirSync, readFileSync, readlinkSync } from "node:fs";

/** Whether a process exists and is not a zombie. */
export function processRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    const state = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0];
    return state !== "Z" && state !== "X";
  } catch {
    return false;
  }
}

export function mountNamespace(pid: number | "self"): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/ns/mnt`);
  } catch {
    return undefined;
  }
}

/** Live processes in mount namespace `ns`: a test worker's sshd and every session it started. */
export function processesInNamespace(ns: string): number[] {
  const own = mountNamespace("self");
  if (ns === own) throw new Error("refusing to list the test runner's own mount namespace as a worker's");
  const pids: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    if (mountNamespace(pid) === ns && processRunning(pid)) pids.push(pid);
  }
  return pids;
}

export async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = "condition"): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
