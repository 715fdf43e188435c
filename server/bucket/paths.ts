import { join, resolve } from "node:path";

/** Every path inside a bucket, computed once from its root. */
export interface BucketPaths {
  root: string;
  conf: string;
  data: string;
  db: string;
  lock: string;
  workspace: string;
  workersJson: string;
  bucketConf: string;
  disabledJson: string;
  jobs: string;
  secrets: string;
  kvKey: string;
  caCrt: string;
  caKey: string;
  /** Worker host keys, recorded on first contact (OpenSSH format). */
  knownHosts: string;
  tmp: string;
  logs: string;
  gitignore: string;
}

export function bucketPaths(root: string): BucketPaths {
  const r = resolve(root);
  return {
    root: r,
    conf: join(r, "maand.conf"),
    data: join(r, "data"),
    db: join(r, "data", "maand.db"),
    lock: join(r, "data", "maand.lock"),
    workspace: join(r, "workspace"),
    workersJson: join(r, "workspace", "workers.json"),
    bucketConf: join(r, "workspace", "bucket.conf"),
    disabledJson: join(r, "workspace", "disabled.json"),
    jobs: join(r, "workspace", "jobs"),
    secrets: join(r, "secrets"),
    kvKey: join(r, "secrets", "kv.key"),
    caCrt: join(r, "secrets", "ca.crt"),
    caKey: join(r, "secrets", "ca.key"),
    knownHosts: join(r, "secrets", "known_hosts"),
    tmp: join(r, "tmp"),
    logs: join(r, "logs"),
    gitignore: join(r, ".gitignore"),
  };
}
