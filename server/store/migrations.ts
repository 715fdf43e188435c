/**
 * Forward-only schema migrations. Each entry is applied once, in order, inside one transaction
 * with the schema_version bump, so a crash mid-migration leaves the previous version intact.
 * Never edit a released migration: append a new one.
 */
export const MIGRATIONS: readonly string[] = [
  // 1: the catalog and the KV store
  `
  CREATE TABLE bucket (
    bucket_id   TEXT PRIMARY KEY,
    created_at  INTEGER NOT NULL
  );
  CREATE TABLE workers (
    worker_id   TEXT PRIMARY KEY,
    worker_ip   TEXT NOT NULL UNIQUE,
    hostname    TEXT NOT NULL DEFAULT '',
    position    INTEGER NOT NULL,
    memory_mb   REAL NOT NULL DEFAULT 0,
    cpu_mhz     REAL NOT NULL DEFAULT 0,
    tags        TEXT NOT NULL DEFAULT '{}'
  );
  CREATE TABLE worker_labels (
    worker_id   TEXT NOT NULL REFERENCES workers(worker_id) ON DELETE CASCADE,
    label       TEXT NOT NULL,
    PRIMARY KEY (worker_id, label)
  );
  CREATE TABLE jobs (
    job_id                  TEXT PRIMARY KEY,
    name                    TEXT NOT NULL UNIQUE,
    version                 TEXT NOT NULL,
    selectors               TEXT NOT NULL,
    max_concurrent_upgrades INTEGER NOT NULL DEFAULT 1,
    max_concurrent_starts   INTEGER NOT NULL DEFAULT 0,
    restart_policy          TEXT NOT NULL DEFAULT 'always',
    deployment_seq          INTEGER NOT NULL DEFAULT 0,
    manifest                TEXT NOT NULL
  );
  CREATE TABLE hooks (
    job             TEXT NOT NULL,
    hook            TEXT NOT NULL,
    event           TEXT NOT NULL,
    script          TEXT NOT NULL,
    timeout_seconds INTEGER NOT NULL DEFAULT 3600,
    demand_job      TEXT,
    demand_hook     TEXT,
    demand_config   TEXT,
    PRIMARY KEY (job, hook, event)
  );
  CREATE TABLE job_files (
    job         TEXT NOT NULL,
    path        TEXT NOT NULL,
    mode        INTEGER NOT NULL,
    hash        TEXT NOT NULL,
    content     BLOB NOT NULL,
    PRIMARY KEY (job, path)
  );
  CREATE TABLE allocations (
    alloc_id        TEXT PRIMARY KEY,
    job             TEXT NOT NULL,
    worker_ip       TEXT NOT NULL,
    disabled        INTEGER NOT NULL DEFAULT 0,
    removed         INTEGER NOT NULL DEFAULT 0,
    deployment_seq  INTEGER NOT NULL DEFAULT 0,
    new_version     TEXT NOT NULL DEFAULT '0.0.0',
    removed_at      INTEGER,
    UNIQUE (job, worker_ip)
  );
  CREATE TABLE hash (
    alloc_id         TEXT PRIMARY KEY,
    current_version  TEXT NOT NULL DEFAULT '0.0.0',
    current_hash     TEXT NOT NULL DEFAULT '',
    previous_hash    TEXT NOT NULL DEFAULT '',
    updated_at       INTEGER NOT NULL DEFAULT 0
  );
  CREATE TABLE kv (
    namespace   TEXT NOT NULL,
    key         TEXT NOT NULL,
    version     INTEGER NOT NULL,
    value       TEXT NOT NULL,
    ttl         INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    deleted     INTEGER NOT NULL DEFAULT 0,
    encrypted   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (namespace, key, version)
  ) WITHOUT ROWID;
  `,
  // 2: the job's health checks as build normalised them (the manifest column keeps the raw text)
  `
  ALTER TABLE jobs ADD COLUMN health_check TEXT NOT NULL DEFAULT '';
  `,
  // 3: deploy. `hash` keeps what was promoted (current_version, current_hash); `deployments` keeps
  // what deploy has done on the worker since (synced, lifecycle applied, running, taken off), so a
  // rerun redoes only what is missing; `deployed_jobs` / `deployed_job_files` keep the last
  // promoted snapshot of every job, so a job that left the workspace can still be stopped with
  // its own Makefile target and after_allocation_stopped hooks; `bucket.update_seq` counts deploys.
  `
  ALTER TABLE bucket ADD COLUMN update_seq INTEGER NOT NULL DEFAULT 0;
  CREATE TABLE deployments (
    alloc_id         TEXT PRIMARY KEY,
    job              TEXT NOT NULL,
    worker_ip        TEXT NOT NULL,
    running          INTEGER NOT NULL DEFAULT 0,
    synced_hash      TEXT NOT NULL DEFAULT '',
    applied_hash     TEXT NOT NULL DEFAULT '',
    applied_version  TEXT NOT NULL DEFAULT '',
    cleaned          INTEGER NOT NULL DEFAULT 0,
    last_run_id      TEXT NOT NULL DEFAULT '',
    last_deploy_at   INTEGER NOT NULL DEFAULT 0,
    last_result      TEXT NOT NULL DEFAULT '',
    last_step        TEXT NOT NULL DEFAULT '',
    last_error       TEXT NOT NULL DEFAULT ''
  );
  CREATE TABLE deployed_jobs (
    job                     TEXT PRIMARY KEY,
    version                 TEXT NOT NULL,
    deployment_seq          INTEGER NOT NULL,
    max_concurrent_upgrades INTEGER NOT NULL,
    restart_policy          TEXT NOT NULL,
    hooks                   TEXT NOT NULL,
    deployed_at             INTEGER NOT NULL
  );
  CREATE TABLE deployed_job_files (
    job         TEXT NOT NULL,
    path        TEXT NOT NULL,
    mode        INTEGER NOT NULL,
    hash        TEXT NOT NULL,
    content     BLOB NOT NULL,
    PRIMARY KEY (job, path)
  );
  `,
  // 4: a job's file listing (path, mode, hash) answered from an index. A row's content sat in
  // the same table b-tree, about a page per 10 kB file, so listing the hashes of a 2,000-file
  // job read 2,000 pages (30 ms: the stale-catalog check, planning, staging and the promote's
  // comparison each paid it); the covering index holds the listing in a few dozen pages (5 moved
  // the contents out, and the index still spares a table lookup per row).
  `
  CREATE INDEX job_files_listing ON job_files (job, path, mode, hash);
  CREATE INDEX deployed_job_files_listing ON deployed_job_files (job, path, mode, hash);
  `,
  // 5: file contents stored once, by sha256, for the built and the deployed snapshot alike. The
  // promote copied every changed file's content into deployed_job_files (a first deploy of a
  // 20 MB job wrote 20 MB more, about a quarter of a second, after its workers were done); now
  // it records paths and hashes. Blobs no snapshot refers to are dropped where rows go.
  `
  CREATE TABLE file_blobs (
    hash        TEXT PRIMARY KEY,
    content     BLOB NOT NULL
  );
  INSERT OR IGNORE INTO file_blobs (hash, content) SELECT hash, content FROM job_files;
  INSERT OR IGNORE INTO file_blobs (hash, content) SELECT hash, content FROM deployed_job_files;
  ALTER TABLE job_files DROP COLUMN content;
  ALTER TABLE deployed_job_files DROP COLUMN content;
  `,
  // 6: sync seals (server/workers/remote-state.ts). Per allocation, the token of the last sync the
  // worker sealed and the files it left there (path -> [sha256, mode], JSON, stored once per
  // distinct list): a worker whose seal still holds answers the next sync in a few bytes
  // instead of its manifest and stat listing.
  `
  ALTER TABLE deployments ADD COLUMN sync_seal TEXT NOT NULL DEFAULT '';
  ALTER TABLE deployments ADD COLUMN sync_seal_files TEXT NOT NULL DEFAULT '';
  CREATE TABLE sync_seal_files (
    hash        TEXT PRIMARY KEY,
    files       TEXT NOT NULL
  );
  `,
  // 7: a random id per committed build. tmp/build-stat.json carries the id of the build that
  // wrote it: when they match, its file hashes are the catalog's, and the stale-catalog check
  // needs no read of job_files (server/build/stale.ts).
  `
  ALTER TABLE bucket ADD COLUMN build_id TEXT NOT NULL DEFAULT '';
  `,
];
