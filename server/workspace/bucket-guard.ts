import { readdirSync, realpathSync, statSync } from "node:fs";
import { join, sep } from "node:path";
import type { BucketPaths } from "../bucket/paths.js";

/**
 * What job files must never be: the bucket's own private directories (secrets/ with kv.key and
 * the CA key, data/ with maand.db, tmp/, logs/) or a hard link to one of their files. Job
 * files are copied into maand.db and staged for every hook; a job directory that is a symlink
 * to secrets/ (or to the bucket root) would store kv.key in plaintext next to what it encrypts.
 */
export interface BucketGuard {
  /** Real paths of the private directories. */
  dirs: readonly string[];
  /** `dev:ino` of the files directly in secrets/ and data/. */
  inodes: ReadonlySet<string>;
}

export const inodeId = (st: { dev: number; ino: number }): string => `${st.dev}:${st.ino}`;

export function bucketGuard(paths: BucketPaths): BucketGuard {
  const dirs: string[] = [];
  const inodes = new Set<string>();
  for (const dir of [paths.secrets, paths.data, paths.tmp, paths.logs]) {
    let real: string;
    try {
      real = realpathSync(dir);
    } catch {
      continue; // not there: nothing to protect
    }
    dirs.push(real);
    if (dir !== paths.secrets && dir !== paths.data) continue;
    for (const name of readdirSync(real)) {
      try {
        const st = statSync(join(real, name));
        if (st.isFile()) inodes.add(inodeId(st));
      } catch {
        // vanished while we looked
      }
    }
  }
  return { dirs, inodes };
}

/** The private directory `real` is, is inside, or contains; undefined when none. */
export function overlapsPrivateDir(guard: BucketGuard, real: string): string | undefined {
  const within = (a: string, b: string) => a === b || a.startsWith(b + sep);
  return guard.dirs.find((d) => within(real, d) || within(d, real));
}
