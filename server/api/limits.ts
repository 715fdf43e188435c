/** Limits from SPEC §8. */
export const LIMITS = {
  maxBodyBytes: 1024 * 1024,
  semaphoreCapacityMin: 1,
  semaphoreCapacityMax: 64,
  semaphoreDefaultCapacity: 1,
  semaphoreDefaultTimeoutSeconds: 600,
  semaphoreMaxTimeoutSeconds: 3600,
  /** ~100 years: keeps created_at + ttl * 1000 a safe integer. */
  maxTtlSeconds: 3_153_600_000,
  /** UTF-8 bytes: keeps catalog rows, `cat` output and error messages a sane size. */
  maxKeyBytes: 1024,
  maxNamespaceBytes: 256,
} as const;
