import "reflect-metadata"; // @peculiar/x509 uses tsyringe, which needs it loaded first
import * as x509 from "@peculiar/x509";
import { createPrivateKey, webcrypto, X509Certificate, type KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";
import { BucketError } from "../errors.js";
import { CERT_ALG, exportPkcs8Pem, randomSerial } from "./ca.js";
import { SUBJECT_FIELDS } from "./subject.js";

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

/** The bucket CA, loaded once per build. */
export interface BucketCa {
  certPem: string;
  cert: x509.X509Certificate;
  /** For the cheap native signature check when deciding whether a stored leaf is still ours. */
  publicKey: KeyObject;
  privateKey: CryptoKey;
}

export interface LeafRequest {
  subject: Record<string, string>;
  /** Goes into the subjectAltName as an IP address. */
  ip: string;
  pkcs8: boolean;
}

export interface LeafPolicy {
  /** Validity of a new leaf, days (maand.conf certs_ttl). */
  ttlDays: number;
  /** Renew this many days before the end of validity (maand.conf certs_renewal_buffer). */
  renewalBufferDays: number;
}

const DAY_MS = 86400_000;

export async function loadCa(caCrtFile: string, caKeyFile: string): Promise<BucketCa> {
  let certPem: string;
  let keyPem: string;
  try {
    certPem = readFileSync(caCrtFile, "utf8");
    keyPem = readFileSync(caKeyFile, "utf8");
  } catch (err) {
    throw new BucketError(`cannot read the bucket CA (${caCrtFile}, ${caKeyFile}): ${(err as NodeJS.ErrnoException).code ?? err}`);
  }
  try {
    const cert = new x509.X509Certificate(certPem);
    const der = createPrivateKey(keyPem).export({ type: "pkcs8", format: "der" });
    const privateKey = (await webcrypto.subtle.importKey("pkcs8", der, CERT_ALG, false, ["sign"])) as unknown as CryptoKey;
    return { certPem, cert, publicKey: new X509Certificate(certPem).publicKey, privateKey };
  } catch (err) {
    throw new BucketError(`the bucket CA in ${caCrtFile} / ${caKeyFile} is unreadable: ${(err as Error).message}`, { cause: err });
  }
}

/** The subject as an X.500 name; workspace validation has already refused any field it cannot map. */
export function subjectName(subject: Record<string, string>): x509.Name {
  return new x509.Name(
    Object.entries(subject).map(([field, value]) => {
      const attr = SUBJECT_FIELDS[field];
      if (!attr) throw new Error(`unknown subject field ${field}`);
      return { [attr]: [value] };
    }),
  );
}

/** A leaf signed by the bucket CA: SAN = the worker IP, usable for TLS server and client auth. */
export async function issueLeaf(ca: BucketCa, req: LeafRequest, policy: LeafPolicy, now: number): Promise<{ crt: string; key: string }> {
  const keys = (await webcrypto.subtle.generateKey(CERT_ALG, true, ["sign", "verify"])) as unknown as CryptoKeyPair;
  // Backdated a minute so a worker whose clock runs slightly behind accepts it at once.
  const notBefore = new Date(now - 60_000);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: subjectName(req.subject),
    issuer: ca.cert.subject,
    notBefore,
    notAfter: new Date(now + policy.ttlDays * DAY_MS),
    publicKey: keys.publicKey,
    signingKey: ca.privateKey,
    signingAlgorithm: CERT_ALG,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyAgreement, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
      new x509.SubjectAlternativeNameExtension([{ type: "ip", value: req.ip }]),
    ],
  });
  const pkcs8 = await exportPkcs8Pem(keys.privateKey);
  const key = req.pkcs8 ? pkcs8 : (createPrivateKey(pkcs8).export({ type: "sec1", format: "pem" }) as string);
  return { crt: cert.toString("pem") + "\n", key };
}

/**
 * Whether a stored leaf can stay: signed by this CA, same subject, same key format, and younger
 * than certs_ttl - certs_renewal_buffer days. Anything unparsable is simply renewed.
 */
export function leafIsCurrent(ca: BucketCa, stored: { crt: string; key: string }, req: LeafRequest, policy: LeafPolicy, now: number): boolean {
  const wantKeyLabel = req.pkcs8 ? "-----BEGIN PRIVATE KEY-----" : "-----BEGIN EC PRIVATE KEY-----";
  if (!stored.key.startsWith(wantKeyLabel)) return false;
  try {
    const native = new X509Certificate(stored.crt);
    if (!native.verify(ca.publicKey)) return false;
    if (native.subjectAltName !== `IP Address:${req.ip}`) return false;
    if (!sameSubject(native, stored.crt, req.subject)) return false;
    const notBefore = Date.parse(native.validFrom);
    const renewAfter = notBefore + (policy.ttlDays - policy.renewalBufferDays) * DAY_MS;
    return now < renewAfter && now < Date.parse(native.validTo);
  } catch {
    return false;
  }
}

const PLAIN_ATTRS = new Set(["CN", "O", "OU", "C", "ST", "L"]);
const PLAIN_VALUE = /^[A-Za-z0-9._*@:-]+( [A-Za-z0-9._*@:-]+)*$/;

/**
 * Node prints a subject as "CN=api\nO=maand" (OpenSSL, RFC 2253 escaping). For the usual
 * attributes with plain values that is compared directly (native, fast on rebuilds with
 * thousands of certs); anything unusual is compared through @peculiar/x509's parser.
 */
function sameSubject(native: X509Certificate, pem: string, subject: Record<string, string>): boolean {
  const entries = Object.entries(subject).map(([field, value]) => [SUBJECT_FIELDS[field], value] as const);
  if (entries.every(([attr, value]) => attr !== undefined && PLAIN_ATTRS.has(attr) && PLAIN_VALUE.test(value))) {
    return native.subject === entries.map(([attr, value]) => `${attr}=${value}`).join("\n");
  }
  return new x509.X509Certificate(pem).subject === subjectName(subject).toString();
}
