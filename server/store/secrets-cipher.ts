import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { MaandError } from "../errors.js";

/** A secret could not be decrypted: tampered row, wrong key, or a key file that changed. */
export class SecretDecryptError extends MaandError {
  constructor(namespace: string, key: string) {
    super(`cannot decrypt secret ${namespace}/${key}: the stored value was altered or secrets/kv.key is not the key it was written with`);
  }
}

const FORMAT = "v1";

/**
 * AES-256-GCM for secrets/* values. A fresh 12-byte nonce per write; namespace and key are the
 * associated data, so a ciphertext copied to another key fails authentication instead of
 * decrypting to someone else's secret.
 */
export class SecretCipher {
  private constructor(private readonly key: Buffer) {}

  static fromKey(key: Buffer): SecretCipher {
    if (key.length !== 32) throw new MaandError(`secrets/kv.key must hold exactly 32 bytes, found ${key.length}`);
    return new SecretCipher(key);
  }

  static fromFile(file: string): SecretCipher {
    let key: Buffer;
    try {
      key = readFileSync(file);
    } catch (err) {
      throw new MaandError(`cannot read the KV secret key ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}; secrets cannot be read or written without it`, 1, { cause: err });
    }
    if (key.length !== 32) throw new MaandError(`${file} must hold exactly 32 bytes (found ${key.length}); secrets cannot be read or written with it`);
    return new SecretCipher(key);
  }

  encrypt(namespace: string, key: string, plaintext: string): string {
    const nonce = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", this.key, nonce);
    cipher.setAAD(aad(namespace, key));
    const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
    const tag = cipher.getAuthTag();
    return `${FORMAT}:${nonce.toString("base64")}:${Buffer.concat([body, tag]).toString("base64")}`;
  }

  decrypt(namespace: string, key: string, stored: string): string {
    const [format, nonceB64, dataB64] = stored.split(":");
    if (format !== FORMAT || nonceB64 === undefined || dataB64 === undefined) throw new SecretDecryptError(namespace, key);
    try {
      const nonce = Buffer.from(nonceB64, "base64");
      const data = Buffer.from(dataB64, "base64");
      if (nonce.length !== 12 || data.length < 16) throw new Error("short");
      const decipher = createDecipheriv("aes-256-gcm", this.key, nonce);
      decipher.setAAD(aad(namespace, key));
      decipher.setAuthTag(data.subarray(data.length - 16));
      return Buffer.concat([decipher.update(data.subarray(0, data.length - 16)), decipher.final()]).toString("utf8");
    } catch {
      throw new SecretDecryptError(namespace, key);
    }
  }
}

function aad(namespace: string, key: string): Buffer {
  // NUL cannot appear in a namespace or key, so "a/b"+"c" and "a"+"b/c" never collide.
  return Buffer.from(`${namespace}\0${key}`, "utf8");
}
