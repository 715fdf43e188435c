import { z } from "zod";
import { LIMITS } from "./limits.js";

/**
 * Request and response schemas of the runtime API. Their descriptions and examples become
 * openapi.json and the SDKs' docs. Unknown input fields are ignored, as the original read
 * bodies: its clients send fields some routes do not take (`{"namespace": "", "key": ""}` to
 * /demands). Wrong types and missing required fields are still a 400.
 */

/**
 * A string that survives storage unchanged: SQLite stores UTF-8, where an unpaired UTF-16
 * surrogate (legal in JSON's \\u escapes) becomes U+FFFD, and a name holding NUL is cut short
 * by C tools and terminals. Names are bounded so catalog rows, `cat` and error messages stay
 * a sane size.
 */
/** No unpaired surrogate: with the u flag, a paired one is one astral code point and does not match. */
const wellFormed = (v: string): boolean => !/[\uD800-\uDFFF]/u.test(v);

function storedText(field: string, options: { maxBytes?: number; nul: boolean }) {
  let s = z.string().min(1);
  if (options.maxBytes !== undefined) {
    const max = options.maxBytes;
    s = s.refine((v) => Buffer.byteLength(v, "utf8") <= max, `${field} must be at most ${max} bytes (UTF-8)`);
  }
  return s.refine(
    (v) => wellFormed(v) && (options.nul || !v.includes("\0")),
    options.nul ? `${field} must not contain unpaired UTF-16 surrogates (they do not survive storage)` : `${field} must not contain NUL or unpaired UTF-16 surrogates`,
  );
}

const namespace = storedText("namespace", { maxBytes: LIMITS.maxNamespaceBytes, nul: false })
  .describe(`KV namespace, e.g. vars/job/<job>, secrets/job/<job>, maand/job/<job> (at most ${LIMITS.maxNamespaceBytes} bytes)`)
  .meta({ examples: ["vars/job/api"] });
const key = storedText("key", { maxBytes: LIMITS.maxKeyBytes, nul: false })
  .describe(`Key inside the namespace (at most ${LIMITS.maxKeyBytes} bytes)`)
  .meta({ examples: ["db_url"] });
/** Values may hold any string that survives storage, NUL included. */
const storedValue = (what: string) => z.string().refine(wellFormed, `value must not contain unpaired UTF-16 surrogates (they do not survive storage)`).describe(what);
const TTL_RANGE = `ttl must be an integer number of seconds from 0 to ${LIMITS.maxTtlSeconds}`;
const ttl = z
  .number(TTL_RANGE)
  .int(TTL_RANGE)
  .min(0, TTL_RANGE)
  .max(LIMITS.maxTtlSeconds, TTL_RANGE)
  .optional()
  .describe("Time to live in seconds; 0 or absent = no expiry. An expired key reads as absent.")
  .meta({ examples: [3600] });
const semaphoreName = storedText("name", { maxBytes: 256, nul: false }).describe("Semaphore name; scoped to this job and EVENT").meta({ examples: ["migration"] });
const allocationId = z.string().describe("Allocation UUID").meta({ examples: ["0b6f3c1e-2f4a-5d6e-8a9b-1c2d3e4f5a6b"] });

export const KvKeyInput = z
  .object({ namespace, key })
  .describe("Namespace and key; GET accepts them as query parameters or as a JSON body")
  .meta({ examples: [{ namespace: "vars/job/api", key: "db_url" }] });

export const KvValueOutput = z
  .object({ namespace, key, value: z.string().describe("Plaintext value (secrets are decrypted)").meta({ examples: ["postgres://db:5432/api"] }) })
  .describe("A key and its value")
  .meta({ examples: [{ namespace: "vars/job/api", key: "db_url", value: "postgres://db:5432/api" }] });

export const KvPutInput = z
  .object({
    namespace,
    key,
    value: storedValue("Value to store (for rollout_order: comma-separated worker IPs)").meta({ examples: ["postgres://db:5432/api"] }),
    ttl,
  })
  .describe("A write under vars/job/<current job>, or maand/job/<current job> key rollout_order on pre_deploy/cli")
  .meta({
    examples: [
      { namespace: "vars/job/api", key: "db_url", value: "postgres://db:5432/api", ttl: 3600 },
      { namespace: "maand/job/api", key: "rollout_order", value: "10.0.0.2,10.0.0.1" },
    ],
  });

export const KvSecretPutInput = z
  .object({
    namespace,
    key,
    value: storedValue("Plaintext secret; stored encrypted with AES-256-GCM").meta({ examples: ["plain-text-secret"] }),
    ttl,
  })
  .describe("A secret write under secrets/job/<current job>")
  .meta({ examples: [{ namespace: "secrets/job/api", key: "db_password", value: "plain-text-secret", ttl: 86400 }] });

export const KvPutOutput = z
  .object({ namespace, key, stored: z.literal(true).describe("The write is visible to the session at once").meta({ examples: [true] }) })
  .describe("The write was accepted")
  .meta({ examples: [{ namespace: "vars/job/api", key: "db_url", stored: true }] });

export const KvDeleteOutput = z
  .object({ namespace, key, deleted: z.literal(true).describe("The key existed and is deleted (a missing key is a 404)").meta({ examples: [true] }) })
  .describe("The delete was accepted")
  .meta({ examples: [{ namespace: "vars/job/api", key: "db_url", deleted: true }] });

export const KvKeysInput = z
  .object({
    namespace: z
      .string()
      .optional()
      .describe("vars/job/<current job> or secrets/job/<current job>; omitted or empty: both")
      .meta({ examples: ["vars/job/api"] }),
  })
  .describe("Optional namespace; GET accepts it as a query parameter or as a JSON body")
  .meta({ examples: [{ namespace: "vars/job/api" }, {}] });

export const KvKeysOutput = z
  .object({
    namespaces: z
      .record(z.string(), z.array(z.string()))
      .describe("Sorted live key names per namespace; secret values are never listed")
      .meta({ examples: [{ "vars/job/api": ["db_url"], "secrets/job/api": ["db_password"] }] }),
  })
  .describe("Key names by namespace")
  .meta({ examples: [{ namespaces: { "vars/job/api": ["db_url"], "secrets/job/api": ["db_password"] } }] });

export const EmptyInput = z.object({}).describe("No input");

export const DemandsOutput = z
  .array(
    z
      .object({
      job: z.string().describe("The downstream job").meta({ examples: ["api"] }),
      hook: z.string().describe("The downstream hook that demands this job's COMMAND hook").meta({ examples: ["hook_migrate"] }),
      command: z.string().describe("The same as `hook`: the original maand's name for it").meta({ examples: ["hook_migrate"] }),
      demand_config: z
        .record(z.string(), z.unknown())
        .describe("The `config` object of the downstream hook's demands ({} when absent)")
        .meta({ examples: [{ min_version: "2.0.0" }] }),
      })
      .describe("A downstream hook and the config of its demand")
      .meta({ examples: [{ job: "api", hook: "hook_migrate", command: "hook_migrate", demand_config: { min_version: "2.0.0" } }] }),
  )
  .describe("Hooks whose manifest demands name this job and the COMMAND hook")
  .meta({ examples: [[{ job: "api", hook: "hook_migrate", command: "hook_migrate", demand_config: { min_version: "2.0.0" } }]] });

const CAPACITY_RANGE = `capacity must be an integer from ${LIMITS.semaphoreCapacityMin} to ${LIMITS.semaphoreCapacityMax}`;
const TIMEOUT_RANGE = "timeout_seconds must be a number of seconds >= 0";

export const SemaphoreAcquireInput = z
  .object({
    name: semaphoreName,
    capacity: z
      .number(CAPACITY_RANGE)
      .int(CAPACITY_RANGE)
      .min(LIMITS.semaphoreCapacityMin, CAPACITY_RANGE)
      .max(LIMITS.semaphoreCapacityMax, CAPACITY_RANGE)
      .optional()
      .describe(`Slots (${LIMITS.semaphoreCapacityMin}-${LIMITS.semaphoreCapacityMax}); fixed by the first acquirer; default: the existing capacity, else ${LIMITS.semaphoreDefaultCapacity}`)
      .meta({ examples: [1] }),
    timeout_seconds: z
      .number(TIMEOUT_RANGE)
      .min(0, TIMEOUT_RANGE)
      .optional()
      .describe(`Seconds to wait for a slot (absent or 0: ${LIMITS.semaphoreDefaultTimeoutSeconds}; clamped to ${LIMITS.semaphoreMaxTimeoutSeconds}); 408 when it elapses`)
      .meta({ examples: [600] }),
  })
  .describe("Acquire a slot, waiting first come, first served")
  .meta({ examples: [{ name: "migration", capacity: 1, timeout_seconds: 600 }] });

export const SemaphoreAcquireOutput = z
  .object({
    name: semaphoreName,
    allocation_id: allocationId,
    capacity: z.number().int().describe("The semaphore's capacity").meta({ examples: [1] }),
    acquired: z.literal(true).describe("This allocation holds a slot").meta({ examples: [true] }),
  })
  .describe("The slot is held until released or until this hook's process ends")
  .meta({ examples: [{ name: "migration", allocation_id: "0b6f3c1e-2f4a-5d6e-8a9b-1c2d3e4f5a6b", capacity: 1, acquired: true }] });

export const SemaphoreNameInput = z
  .object({ name: semaphoreName })
  .describe("The semaphore name")
  .meta({ examples: [{ name: "migration" }] });

export const SemaphoreReleaseOutput = z
  .object({ name: semaphoreName, allocation_id: allocationId, released: z.literal(true).describe("The slot was released").meta({ examples: [true] }) })
  .describe("The slot was released; the next waiter (first come, first served) gets it")
  .meta({ examples: [{ name: "migration", allocation_id: "0b6f3c1e-2f4a-5d6e-8a9b-1c2d3e4f5a6b", released: true }] });

export const SemaphoreStatusOutput = z
  .object({
    name: semaphoreName,
    capacity: z.number().int().describe("Slots (1 for a semaphore nobody has acquired yet)").meta({ examples: [1] }),
    holders: z
      .array(allocationId)
      .describe("Allocation IDs holding a slot, in acquisition order")
      .meta({ examples: [["0b6f3c1e-2f4a-5d6e-8a9b-1c2d3e4f5a6b"]] }),
    waiting: z.number().int().describe("Number of queued waiters").meta({ examples: [0] }),
    available: z.number().int().describe("Free slots").meta({ examples: [0] }),
  })
  .describe("Holders and waiters of the semaphore in this job and EVENT")
  .meta({ examples: [{ name: "migration", capacity: 1, holders: ["0b6f3c1e-2f4a-5d6e-8a9b-1c2d3e4f5a6b"], waiting: 0, available: 0 }] });

export const ErrorOutput = z
  .object({
    message: z
      .string()
      .describe("Human-readable message (the design note's exact text for its errors)")
      .meta({ examples: ["Invalid or unauthorized namespace"] }),
    code: z.string().describe("Stable machine-readable code").meta({ examples: ["UNAUTHORIZED_NAMESPACE"] }),
    detail: z
      .string()
      .optional()
      .describe("Which rule refused the request and how to fix it (the message stays the design note's exact text)")
      .meta({ examples: ["vars/job/pg is readable only when a hook of job api declares a demand on job pg (...)"] }),
  })
  .meta({ id: "Error", description: "Every non-2xx response", examples: [{ message: "Invalid or unauthorized namespace", code: "UNAUTHORIZED_NAMESPACE" }] });
