import type { CertSpec } from "./model.js";
import type { FileProblems } from "./problems.js";
import { keyPath } from "./json-path.js";
import { boolean, optional, readObject, required, text } from "./fields.js";
import { CERT_NAME_PATTERN } from "./names.js";
import { subjectFieldProblem } from "../certs/subject.js";

export const CERT_FIELDS = ["subject", "pkcs8"] as const;

/** `certs` of one manifest, sorted by name; every subject field is checked (server/certs/subject.ts). */
export function parseCerts(p: FileProblems, value: unknown): CertSpec[] {
  if (value === undefined || value === null) return [];
  const certs = readObject(p, value, "$.certs", undefined, 'an object like {"server": {"subject": {"common_name": "api"}}}');
  if (!certs) return [];
  const specs: CertSpec[] = [];
  for (const [name, body] of Object.entries(certs)) {
    const at = keyPath("$.certs", name);
    const validName = CERT_NAME_PATTERN.test(name);
    if (!validName) p.add(at, "expected a cert name of letters, digits, _ . - (it names certs/<name>.crt)", name);
    const obj = readObject(p, body, at, CERT_FIELDS, 'a cert like {"subject": {"common_name": "api"}}');
    if (!obj) continue;
    const subjectAt = keyPath(at, "subject");
    const subject = obj.subject === undefined
      ? (p.add(subjectAt, 'is missing; expected an object like {"common_name": "api"}'), undefined)
      : readObject(p, obj.subject, subjectAt, undefined, 'an object like {"common_name": "api"}');
    const pkcs8 = optional(p, obj, "pkcs8", at, boolean, false);
    if (!subject) continue;
    const commonName = required(p, subject, "common_name", subjectAt, text(), "a non-empty string");
    let ok = commonName !== undefined && validName;
    for (const [field, v] of Object.entries(subject)) {
      const problem = field === "common_name" && commonName === undefined ? undefined : subjectFieldProblem(field, v);
      if (problem) {
        p.add(keyPath(subjectAt, field), problem, v);
        ok = false;
      }
    }
    if (ok) specs.push({ name, subject: { ...(subject as Record<string, string>), common_name: commonName! }, pkcs8 });
  }
  return specs.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
