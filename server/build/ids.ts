import { createHash } from "node:crypto";

/**
 * Stable catalog IDs: RFC 4122 version-5 UUIDs (SHA-1 of a namespace UUID and a name), so a
 * rebuild, a fresh bucket or another operator's laptop derive the same ID for the same
 * allocation. Each kind has its own namespace, so a job named like a worker IP cannot collide.
 */
const MAAND_NAMESPACE = "6d61616e-642d-4275-a96c-642d69647321";

export type IdKind = "worker" | "job" | "allocation";

const KIND_NAMESPACES: Record<IdKind, string> = {
  worker: uuidV5(MAAND_NAMESPACE, "worker"),
  job: uuidV5(MAAND_NAMESPACE, "job"),
  allocation: uuidV5(MAAND_NAMESPACE, "allocation"),
};

export const workerId = (ip: string): string => uuidV5(KIND_NAMESPACES.worker, ip);
export const jobId = (name: string): string => uuidV5(KIND_NAMESPACES.job, name);
export const allocationId = (job: string, workerIp: string): string => uuidV5(KIND_NAMESPACES.allocation, `${job}|${workerIp}`);

export function uuidV5(namespace: string, name: string): string {
  const ns = Buffer.from(namespace.replace(/-/g, ""), "hex");
  const b = createHash("sha1").update(ns).update(name, "utf8").digest().subarray(0, 16);
  b[6] = (b[6]! & 0x0f) | 0x50;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
