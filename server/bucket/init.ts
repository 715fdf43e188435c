import { chmodSync, existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { randomBytes, randomUUID } from "node:crypto";
import { createCa } from "../certs/ca.js";
import { BucketError } from "../errors.js";
import { openDb } from "../store/db.js";
import { bucketId, insertBucketRow } from "../store/catalog.js";
import { renderDefaultConf } from "./conf.js";
import { bucketPaths, type BucketPaths } from "./paths.js";
import { acquireBucketLock } from "../store/lock.js";

/**
 * Operators version the workspace (and maand.conf); what maand keeps for itself must never be
 * committed: the catalog and the keys (secrets/ holds kv.key and the CA key in plaintext), staged
 * copies and hook output (which may hold secrets a hook failed to hide).
 */
export const BUCKET_GITIGNORE = `# written by maand init: version workspace/ and maand.conf, never these
/secrets/
/data/
/tmp/
/logs/
`;

export interface InitResult {
  created: boolean;
  bucketId: string;
  paths: BucketPaths;
}

/**
 * Creates a bucket (SPEC §3). On an existing bucket it changes nothing and reports so.
 */
export async function initBucket(root: string): Promise<InitResult> {
  const paths = bucketPaths(root);
  if (existsSync(paths.conf)) {
    const db = openDb(paths.db);
    try {
      return { created: false, bucketId: bucketId(db), paths };
    } finally {
      db.close();
    }
  }
  for (const dir of [paths.root, paths.data, paths.workspace, paths.jobs, paths.secrets, paths.tmp, paths.logs]) {
    try {
      mkdirSync(dir, { recursive: true });
    } catch (err) {
      // e.g. --bucket names a file, or a directory maand may not write to
      const code = (err as NodeJS.ErrnoException).code ?? String(err);
      throw new BucketError(`cannot create the bucket in ${paths.root}: ${dir} cannot be created (${code}); pass --bucket a directory you can write to`);
    }
  }
  chmodSync(paths.secrets, 0o700);
  // maand.db holds secrets and certificates' private keys, encrypted, but also every job's vars and files.
  chmodSync(paths.data, 0o700);
  // logs/ holds whatever hooks print (see hooks/log-modes.ts).
  chmodSync(paths.logs, 0o700);
  const lock = acquireBucketLock(paths.lock);
  try {
    const id = randomUUID();
    writeSecretFile(paths.kvKey, randomBytes(32));
    const ca = await createCa(id);
    writeSecretFile(paths.caKey, ca.keyPem);
    writeFileSync(paths.caCrt, ca.certPem, { mode: 0o644 });
    // A workspace checked out before init (e.g. from git) is kept as it is.
    if (!existsSync(paths.workersJson)) writeFileSync(paths.workersJson, "[]\n");
    if (!existsSync(paths.bucketConf)) writeFileSync(paths.bucketConf, "# bucket-wide variables, readable by every hook as KV vars/bucket\n");
    if (!existsSync(paths.gitignore)) writeFileSync(paths.gitignore, BUCKET_GITIGNORE);
    // left by an init killed before maand.conf was written
    for (const f of [paths.db, `${paths.db}-wal`, `${paths.db}-shm`]) rmSync(f, { force: true });
    const db = openDb(paths.db);
    try {
      insertBucketRow(db, id, Date.now());
    } finally {
      db.close();
    }
    // maand.conf last: its presence is what marks a directory as a bucket, so an init killed
    // half-way is retried from scratch instead of leaving a bucket without keys.
    writeFileSync(paths.conf, renderDefaultConf());
    return { created: true, bucketId: id, paths };
  } finally {
    lock.release();
  }
}

function writeSecretFile(file: string, content: string | Buffer): void {
  writeFileSync(file, content, { mode: 0o600 });
  chmodSync(file, 0o600); // the umask can only take bits away; make the mode exact
}
