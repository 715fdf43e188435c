import { mkdtempSync } from "node:fs";
import { join } from "node:path";
import { withDefaults, type TransportOptions } from "../../server/workers/options.js";
import { WorkerPool } from "../../server/workers/pool.js";
import type { WorkerSet } from "./workers.js";

/** A pool on `set` with a fresh known_hosts of its own (first contact records the keys). */
export function poolFor(set: WorkerSet, overrides: Partial<TransportOptions> = {}): WorkerPool {
  return new WorkerPool(
    withDefaults({
      user: set.user,
      port: set.port,
      keyPath: set.keyPath,
      useSudo: false,
      knownHostsFile: join(mkdtempSync(join(set.dir, "kh-")), "known_hosts"),
      ...overrides,
    }),
  );
}

/**
 * The two ways a pool reaches workers: connections of its own (ssh_persist = 0), or the ones
 * the SSH connection holder keeps (a socket of the set's, persisting 2 s after its last use).
 */
export const TRANSPORT_MODES: ReadonlyArray<{ name: string; options: (set: WorkerSet) => Partial<TransportOptions> }> = [
  { name: "", options: () => ({}) },
  { name: " (through the connection holder)", options: (set) => ({ persistSec: 2, holderSocket: join(set.dir, "holder.sock") }) },
];

/** Resolves with the error a promise rejects with (fails the test when it resolves). */
export async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error("expected a rejection, the promise resolved");
}

import { createHash } from "node:crypto";
import { existsSync, lstatSync, readdirSync, readFileSync } from "node:fs";
import { sealedFileList, type JobSeal, type SyncFile } from "../../server/workers/sync-plan.js";
import type { SyncResult } from "../../server/workers/sync.js";

export function file(path: string, content: string | Buffer, mode = 0o644): SyncFile {
  const buf = Buffer.isBuffer(content) ? content : Buffer.from(content);
  return { path, mode, hash: createHash("sha256").update(buf).digest("hex"), content: buf };
}

export interface SeenFile {
  content: string;
  mode: number;
  ino: number;
}

/** Every regular file under `dir` (host side), relative paths, sorted. */
export function tree(dir: string): Record<string, SeenFile> {
  const out: Record<string, SeenFile> = {};
  const walk = (abs: string, rel: string) => {
    for (const name of readdirSync(abs).sort()) {
      const a = join(abs, name);
      const r = rel ? `${rel}/${name}` : name;
      const st = lstatSync(a);
      if (st.isDirectory()) walk(a, r);
      else out[r] = { content: readFileSync(a, "utf8"), mode: st.mode & 0o7777, ino: st.ino };
    }
  };
  if (existsSync(dir)) walk(dir, "");
  return out;
}

/** What deploy records after a sync (remote-steps.ts), handed to the next one: the seal of `job` with its files. */
export function sealOf(result: SyncResult, files: readonly SyncFile[], job = result.jobs[0]!.job): JobSeal {
  const token = result.jobs.find((j) => j.job === job)?.seal;
  if (!token) throw new Error(`the sync of ${job} left no seal`);
  return { token, files: () => sealedFileList(files) };
}
