import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { processRunning } from "../helpers/wait.js";

export { processRunning, waitFor } from "../helpers/wait.js";

export function mountNamespace(pid: number | "self"): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/ns/mnt`);
  } catch {
    return undefined;
  }
}

/**
 * Live processes of a test worker: those in mount namespace `ns` whose /opt/worker is `optDir`.
 * Namespace ids are reused once a namespace is gone, so the id alone could name another test's
 * worker; the bind mount's source confirms the namespace is still this worker's.
 */
export function processesInNamespace(ns: string, optDir: string): number[] {
  const own = mountNamespace("self");
  if (ns === own) throw new Error("refusing to list the test runner's own mount namespace as a worker's");
  const pids: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    if (mountNamespace(pid) === ns && processRunning(pid)) pids.push(pid);
  }
  return pids.length && mountsOptDir(pids[0], optDir) ? pids : [];
}

function mountsOptDir(pid: number, optDir: string): boolean {
  try {
    // mountinfo fields: id parent major:minor root mount-point ...; a bind mount's root is its source path.
    return readFileSync(`/proc/${pid}/mountinfo`, "utf8")
      .split("\n")
      .some((l) => {
        const f = l.split(" ");
        return f[4] === "/opt/worker" && f[3] === optDir;
      });
  } catch {
    return false;
  }
}
