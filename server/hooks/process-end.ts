import { closeSync, openSync, readSync } from "node:fs";

/** Whether a spawned process has exited, asked synchronously (see watchProcessEnd). */
export interface ProcessEndWatch {
  ended(): boolean;
  close(): void;
}

const STAT_BYTES = 512;

/**
 * Node learns that a child exited from SIGCHLD, which a busy or descheduled thread may handle
 * milliseconds late, after the event loop has already served requests of a process the hook
 * forked: measured under load, a forked child's write was accepted 5 ms after its parent had
 * exited. The kernel knows at once: the task is a zombie. An fd kept on /proc/<pid>/stat
 * reads the current state (about 1.5 µs a read), stays bound to this task when the pid is
 * reused, and fails once the task is reaped. Without /proc, ended() is false and the exit
 * event alone ends the invocation.
 */
export function watchProcessEnd(pid: number): ProcessEndWatch {
  let fd: number | undefined;
  try {
    fd = openSync(`/proc/${pid}/stat`, "r");
  } catch {
    fd = undefined;
  }
  const buf = Buffer.alloc(STAT_BYTES);
  let ended = false;
  return {
    ended() {
      if (ended || fd === undefined) return ended;
      try {
        const n = readSync(fd, buf, 0, STAT_BYTES, 0);
        // "pid (comm) state ...": comm may hold spaces and parentheses, so the last ")" counts.
        const text = buf.toString("latin1", 0, n);
        const state = text.charAt(text.lastIndexOf(")") + 2);
        ended = n === 0 || state === "Z" || state === "X";
      } catch {
        ended = true; // ESRCH: already reaped
      }
      return ended;
    },
    close() {
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
    },
  };
}
