import type { HealthCheckProbe, HealthCheckSpec } from "./model.js";
import type { FileProblems } from "./problems.js";
import { indexPath, keyPath } from "./json-path.js";
import { integer, MAX_TIMEOUT_SECONDS, number, oneOf, optional, readObject, required, text, Invalid, type Check } from "./fields.js";

export const HEALTH_CHECK_FIELDS = ["checks", "timeout_seconds", "wait"] as const;
export const WAIT_FIELDS = ["attempts", "interval_seconds"] as const;
export const PROBE_TYPES = ["tcp", "http", "ssh"] as const;
const PROBE_FIELDS: Record<(typeof PROBE_TYPES)[number], readonly string[]> = {
  tcp: ["type", "port"],
  http: ["type", "port", "path", "expect_status", "scheme", "expect_body"],
  ssh: ["type", "command"],
};

const portNumber = integer(1, 65535);
/** A port number, or the name of a KV key that holds one (resolved per allocation when checks run). */
const port: Check<number | string> = (v) => {
  if (typeof v === "string") return /^[A-Za-z0-9_.\-]{1,128}$/.test(v) ? v : new Invalid("expected a port from 1 to 65535 or the name of a KV key holding it (letters, digits, _ . -)");
  const n = portNumber(v);
  return n instanceof Invalid ? new Invalid("expected a port from 1 to 65535 or the name of a KV key holding it") : n;
};
const httpPath: Check<string> = (v) => (typeof v === "string" && v.startsWith("/") ? v : new Invalid('expected a URL path starting with "/"'));

export function parseHealthCheck(p: FileProblems, value: unknown): HealthCheckSpec | undefined {
  if (value === undefined || value === null) return undefined;
  const at = "$.health_check";
  const obj = readObject(p, value, at, HEALTH_CHECK_FIELDS, 'an object like {"checks": [{"type": "tcp", "port": 8080}]}');
  if (!obj) return undefined;
  const spec: HealthCheckSpec = {
    checks: parseChecks(p, obj.checks, keyPath(at, "checks")),
    timeoutSeconds: optional(p, obj, "timeout_seconds", at, integer(1, MAX_TIMEOUT_SECONDS), 5),
    wait: { attempts: 1, intervalSeconds: 1 },
  };
  if (obj.wait !== undefined && obj.wait !== null) {
    const waitAt = keyPath(at, "wait");
    const wait = readObject(p, obj.wait, waitAt, WAIT_FIELDS, 'an object like {"attempts": 30, "interval_seconds": 1}');
    if (wait) {
      spec.wait = {
        attempts: optional(p, wait, "attempts", waitAt, integer(1), 1),
        intervalSeconds: optional(p, wait, "interval_seconds", waitAt, number(0), 1),
      };
    }
  }
  return spec;
}

function parseChecks(p: FileProblems, value: unknown, at: string): HealthCheckProbe[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    p.add(at, 'expected an array of checks like [{"type": "tcp", "port": 8080}]', value);
    return [];
  }
  const probes: HealthCheckProbe[] = [];
  value.forEach((item, i) => {
    const probe = parseProbe(p, item, indexPath(at, i));
    if (probe) probes.push(probe);
  });
  return probes;
}

function parseProbe(p: FileProblems, value: unknown, at: string): HealthCheckProbe | undefined {
  const loose = readObject(p, value, at, undefined, 'a check object like {"type": "tcp", "port": 8080}');
  if (!loose) return undefined;
  const type = required(p, loose, "type", at, oneOf(PROBE_TYPES), "a check type: tcp, http or ssh");
  if (type === undefined) return undefined;
  const obj = readObject(p, loose, at, PROBE_FIELDS[type])!;
  // Every field is checked even after one fails; a failed field's placeholder never escapes
  // because any problem stops the read.
  if (type === "ssh") return { type, command: required(p, obj, "command", at, text("a non-empty shell command"), "a shell command") ?? "" };
  const n = required(p, obj, "port", at, port, "a port from 1 to 65535 or the name of a KV key holding it") ?? 0;
  if (type === "tcp") return { type, port: n };
  const body = optional<string | undefined>(p, obj, "expect_body", at, text("a non-empty string the response body must contain"), undefined);
  return {
    type,
    port: n,
    path: optional(p, obj, "path", at, httpPath, "/"),
    expect_status: optional(p, obj, "expect_status", at, integer(100, 599), 200),
    scheme: optional(p, obj, "scheme", at, oneOf(["http", "https"] as const), "http"),
    ...(body !== undefined ? { expect_body: body } : {}),
  };
}
