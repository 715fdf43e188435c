/**
 * Certificate subject fields as manifests write them, and what each value may hold, defined once
 * and without the x509 library: workspace validation checks every subject with the other
 * problems (also for jobs placed on no worker), build issues only what passed.
 */

/** manifest subject field -> X.500 attribute (short name or OID). */
export const SUBJECT_FIELDS: Readonly<Record<string, string>> = {
  common_name: "CN",
  organization: "O",
  organisation: "O",
  organizational_unit: "OU",
  organisational_unit: "OU",
  country: "C",
  state: "ST",
  province: "ST",
  state_or_province: "ST",
  locality: "L",
  city: "L",
  street_address: "2.5.4.9",
  postal_code: "2.5.4.17",
  serial_number: "2.5.4.5",
  email_address: "E",
  email: "E",
  domain_component: "DC",
  title: "T",
  given_name: "G",
  surname: "SN",
  initials: "I",
};

// What DER encodes these attributes as (RFC 5280 appendix A): an IA5String holds ASCII only,
// a PrintableString a small set; the country is two letters (ISO 3166).
const IA5 = /^[\x20-\x7e]+$/;
const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?]+$/;
const ATTRIBUTE_RULES: Readonly<Record<string, { test: RegExp; expected: string }>> = {
  C: { test: /^[A-Za-z]{2}$/, expected: 'a two-letter country code like "DE"' },
  E: { test: /^[\x21-\x7e]+@[\x21-\x7e]+$/, expected: "an ASCII email address" },
  DC: { test: IA5, expected: "ASCII text" },
  "2.5.4.5": { test: PRINTABLE, expected: "letters, digits, spaces and ' ( ) + , - . / : = ?" },
};

/**
 * What is wrong with one subject field, or undefined when it is fine. Values must be non-empty
 * text without control characters (they end up in logs and `openssl x509 -text` output).
 */
export function subjectFieldProblem(field: string, value: unknown): string | undefined {
  const attr = SUBJECT_FIELDS[field];
  if (attr === undefined) return `is not a subject field; expected one of ${Object.keys(SUBJECT_FIELDS).join(", ")}`;
  if (typeof value !== "string" || value.length === 0) return "expected a non-empty string";
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f-\x9f]/.test(value)) return "expected text without control characters";
  const rule = ATTRIBUTE_RULES[attr];
  if (rule && !rule.test.test(value)) return `expected ${rule.expected}`;
  return undefined;
}
