import { appendFileSync, existsSync, readFileSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { BucketPaths } from "../bucket/paths.js";

/**
 * Hook process groups a maand process started, recorded so the next maand command can stop the
 * ones a maand killed by SIGKILL (or a crash) left running. Each hook runs in its own process
 * group (its pid is the group id); a record is its pid and the kernel's start time of that pid,
 * so a pid the system has since reused for another process is never signalled.
 *
 * The record is an append-only file (tmp/hook-processes): "+ <pid> <start> <owner pid>" when a
 * hook starts and "- <pid>" when it ended, so 200 parallel hooks cost 400 small appends, no
 * rewrites.
 */

export interface HookProcessRecord {
  /** Called once the hook's process exists (its group id = its pid). */
  started(pid: number): void;
  ended(pid: number): void;
}

const file = (paths: BucketPaths): string => join(paths.tmp, "hook-processes");

export function hookProcessRecord(paths: BucketPaths): HookProcessRecord {
  const path = file(paths);
  const write = (line: string) => {
    try {
      appendFileSync(path, `${line}\n`, { mode: 0o600 });
    } catch {
      // A record that cannot be written only loses the cleanup after a crash, never a run.
    }
  };
  return {
    started(pid) {
      const start = startTime(pid);
      if (start !== undefined) write(`+ ${pid} ${start} ${process.pid}`);
    },
    ended: (pid) => write(`- ${pid}`),
  };
}

export interface ReapedGroup {
  pid: number;
  /** The maand process that started it (and died without stopping it). */
  owner: number;
}

/**
 * Stops every recorded hook group whose maand is gone and whose pid still is that process (same
 * start time), then clears the record. Called by a mutating command once it holds the bucket
 * lock, so no live maand is running hooks of this bucket.
 */
export function reapOrphanedHooks(paths: BucketPaths): ReapedGroup[] {
  const path = file(paths);
  if (!existsSync(path)) return [];
  // Take the file out of the way first: a hook started from now on records into a new one.
  const taken = `${path}.reaping-${process.pid}`;
  try {
    renameSync(path, taken);
  } catch {
    return [];
  }
  const live = new Map<number, { start: string; owner: number }>();
  for (const line of readFileSync(taken, "utf8").split("\n")) {
    const [op, pid, start, owner] = line.split(" ");
    if (op === "+" && pid && start) live.set(Number(pid), { start, owner: Number(owner) });
    else if (op === "-" && pid) live.delete(Number(pid));
  }
  rmSync(taken, { force: true });
  const reaped: ReapedGroup[] = [];
  for (const [pid, r] of live) {
    if (r.owner === process.pid || startTime(r.owner) !== undefined) continue; // its maand still runs
    if (startTime(pid) !== r.start) continue; // ended, or the pid belongs to someone else now
    try {
      process.kill(-pid, "SIGKILL");
      reaped.push({ pid, owner: r.owner });
    } catch {
      // already gone
    }
  }
  return reaped;
}

/** The kernel's start time of a process (field 22 of /proc/<pid>/stat, in clock ticks since boot). */
function startTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    // "pid (comm) state ..." — comm may hold spaces and parentheses: split after the last ")".
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}
