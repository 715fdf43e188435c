import "reflect-metadata"; // @peculiar/x509 uses tsyringe, which needs it loaded first
import * as x509 from "@peculiar/x509";
import { webcrypto } from "node:crypto";

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

export const CERT_ALG = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;

export interface PemPair {
  certPem: string;
  keyPem: string;
}

/** A self-signed bucket CA (ECDSA P-256), valid ten years. */
export async function createCa(bucketId: string, now = new Date()): Promise<PemPair> {
  const keys = await webcrypto.subtle.generateKey(CERT_ALG, true, ["sign", "verify"]);
  const notAfter = new Date(now.getTime() + 3650 * 86400_000);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: `CN=maand bucket ${bucketId}`,
    notBefore: now,
    notAfter,
    keys: keys as unknown as CryptoKeyPair,
    signingAlgorithm: CERT_ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
    ],
  });
  return { certPem: cert.toString("pem"), keyPem: await exportPkcs8Pem(keys.privateKey as unknown as CryptoKey) };
}

export async function exportPkcs8Pem(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey("pkcs8", key as unknown as webcrypto.CryptoKey));
  return x509.PemConverter.encode(der, "PRIVATE KEY") + "\n";
}

export function randomSerial(): string {
  // Positive 16-byte serial: clear the top bit.
  const b = webcrypto.getRandomValues(new Uint8Array(16));
  b[0]! &= 0x7f;
  return Buffer.from(b).toString("hex");
}
