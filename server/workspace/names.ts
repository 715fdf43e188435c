import { isIP } from "node:net";

/** Labels and job names become KV key parts (`<label>_workers`, `maand/job/<job>`). */
export const NAME_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
export const NAME_EXPECTED = "a name of letters, digits, _ . - (not starting with . or -)";

export const CERT_NAME_PATTERN = /^[A-Za-z0-9_.-]+$/;
export const HOOK_NAME_PATTERN = /^hook_[A-Za-z0-9_]+$/;

const DNS_LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/** IPv4, IPv6 or a DNS name. An all-numeric last label must be an IPv4 address (no "10.0.0.256"). */
export function isValidHost(host: string): boolean {
  if (isIP(host) !== 0) return true;
  const name = host.endsWith(".") ? host.slice(0, -1) : host;
  if (name.length === 0 || name.length > 253) return false;
  const labels = name.split(".");
  if (/^\d+$/.test(labels[labels.length - 1])) return false;
  return labels.every((l) => DNS_LABEL.test(l));
}

export const HOST_EXPECTED = "expected a host: an IPv4 or IPv6 address or a DNS name";
