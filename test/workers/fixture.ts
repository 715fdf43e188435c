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

/** Resolves with the error a promise rejects with (fails the test when it resolves). */
export async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error("expected a rejection, the promise resolved");
}
