import type { WorkerSpec } from "./model.js";
import type { FileProblems } from "./problems.js";
import { indexPath, keyPath } from "./json-path.js";
import { Invalid, optional, readObject, required, type Check } from "./fields.js";
import { HOST_EXPECTED, NAME_EXPECTED, NAME_PATTERN, isValidHost } from "./names.js";
import { canonicalHost, hostKey } from "./hosts.js";
import { CPU_EXPECTED, MEMORY_EXPECTED, parseCpuMhz, parseMemoryMb } from "./units.js";

export const WORKER_FIELDS = ["host", "labels", "hostname", "memory", "cpu", "tags"] as const;
/** Every worker carries this label, so a job can select all workers. */
export const WORKER_LABEL = "worker";

/** Valid hosts come back in their stored form (IPv6 canonical, see canonicalHost). */
const host: Check<string> = (v) => (typeof v === "string" && isValidHost(v) ? canonicalHost(v) : new Invalid(HOST_EXPECTED));
const anyString: Check<string> = (v) => (typeof v === "string" ? v : new Invalid("expected a string"));
const memory: Check<number> = (v) => parseMemoryMb(v) ?? new Invalid(MEMORY_EXPECTED);
const cpu: Check<number> = (v) => parseCpuMhz(v) ?? new Invalid(CPU_EXPECTED);

/** Validates the parsed workers.json document; position = index in the array. */
export function parseWorkers(p: FileProblems, doc: unknown): WorkerSpec[] {
  if (!Array.isArray(doc)) {
    p.add("$", 'expected a JSON array of workers like [{"host": "10.0.0.1", "labels": ["api"]}]', doc);
    return [];
  }
  const workers: WorkerSpec[] = [];
  const hostAt = new Map<string, string>();
  doc.forEach((item, i) => {
    const at = indexPath("$", i);
    const obj = readObject(p, item, at, WORKER_FIELDS, 'a worker object like {"host": "10.0.0.1"}');
    if (!obj) return;
    const h = required(p, obj, "host", at, host, "a host (IPv4, IPv6 or DNS name)");
    if (h !== undefined) {
      // After normalising: ::1 and 0:0:0:0:0:0:0:1 (or API.example and api.example.) are one host.
      const key = hostKey(h);
      const first = hostAt.get(key);
      if (first) p.add(keyPath(at, "host"), `duplicates ${first}; expected every host to be unique (addresses compare normalised: ::1 is 0:0:0:0:0:0:0:1)`, obj.host);
      else hostAt.set(key, keyPath(at, "host"));
    }
    const worker: WorkerSpec = {
      host: h ?? "",
      position: i,
      labels: parseLabels(p, obj.labels, keyPath(at, "labels")),
      hostname: optional(p, obj, "hostname", at, anyString, ""),
      memoryMb: optional(p, obj, "memory", at, memory, 0),
      cpuMhz: optional(p, obj, "cpu", at, cpu, 0),
      tags: parseTags(p, obj.tags, keyPath(at, "tags")),
    };
    workers.push(worker);
  });
  return workers;
}

function parseLabels(p: FileProblems, value: unknown, at: string): string[] {
  const labels: string[] = [];
  if (value !== undefined && value !== null) {
    if (!Array.isArray(value)) p.add(at, `expected an array of labels like ["api"]`, value);
    else {
      value.forEach((label, j) => {
        if (typeof label === "string" && NAME_PATTERN.test(label)) {
          if (!labels.includes(label)) labels.push(label);
        } else p.add(indexPath(at, j), `expected a label: ${NAME_EXPECTED}`, label);
      });
    }
  }
  if (!labels.includes(WORKER_LABEL)) labels.push(WORKER_LABEL);
  return labels;
}

function parseTags(p: FileProblems, value: unknown, at: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  const obj = readObject(p, value, at, undefined, 'an object of string tags like {"zone": "a"}');
  const tags: Array<[string, string]> = [];
  for (const [k, v] of Object.entries(obj ?? {})) {
    if (k.length === 0) p.add(keyPath(at, k), "expected a non-empty tag name", v);
    else if (typeof v !== "string") p.add(keyPath(at, k), "expected a string tag value", v);
    else tags.push([k, v]);
  }
  // fromEntries defines own properties, so a "__proto__" tag stays a tag
  return Object.fromEntries(tags);
}
