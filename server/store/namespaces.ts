/**
 * The KV namespaces of SPEC §5-§6, defined once: build writes them, the runtime API authorises
 * by them (server/api/kv-access.ts parses the same shapes), staging and gc address them.
 */
export const NS = {
  bucket: "maand/bucket",
  worker: "maand/worker",
  workerOf: (ip: string) => `maand/worker/${ip}`,
  workerTags: (ip: string) => `maand/worker/${ip}/tags`,
  job: (job: string) => `maand/job/${job}`,
  allocation: (job: string, ip: string) => `maand/job/${job}/worker/${ip}`,
  bucketVars: "vars/bucket",
  bucketJobVars: (job: string) => `vars/bucket/job/${job}`,
  jobVars: (job: string) => `vars/job/${job}`,
  jobSecrets: (job: string) => `secrets/job/${job}`,
} as const;
