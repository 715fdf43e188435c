import { createHash, createHmac } from "node:crypto";
import { appendFileSync, chmodSync, existsSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { dirname } from "node:path";
import type { ServerHostKeyAlgorithm } from "ssh2";
import { MaandError } from "../errors.js";

/** SHA256 fingerprint as OpenSSH prints it (`ssh-keygen -lf`): unpadded base64 of the key blob's digest. */
export function fingerprint(blob: Buffer): string {
  return `SHA256:${createHash("sha256").update(blob).digest("base64").replace(/=+$/, "")}`;
}

/** The key type named inside an SSH public key blob (its first length-prefixed string). */
export function keyType(blob: Buffer): string {
  if (blob.length < 4) return "unknown";
  const n = blob.readUInt32BE(0);
  return n > 0 && 4 + n <= blob.length ? blob.subarray(4, 4 + n).toString("latin1") : "unknown";
}

const NEGOTIABLE: ReadonlySet<string> = new Set(["ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"]);

/** known_hosts names a host on port 22 bare and any other port as `[host]:port`. */
export const hostPattern = (host: string, port: number): string => (port === 22 ? host : `[${host}]:${port}`);

interface Entry {
  patterns: string[];
  marker?: "@revoked" | "@cert-authority";
  type: string;
  blob: Buffer;
}

export type HostKeyVerdict =
  | { status: "known" }
  | { status: "unknown" }
  | { status: "changed"; knownFingerprint: string; presentedFingerprint: string }
  | { status: "revoked"; presentedFingerprint: string };

/**
 * The bucket's known_hosts (OpenSSH format, so `ssh -o UserKnownHostsFile=` trusts the same keys).
 * Keys are recorded on first contact (trust on first use) and a different key is refused later.
 * Reads plain, wildcard, negated and hashed (`|1|salt|hash`) entries; writes plain ones.
 */
export class KnownHosts {
  private constructor(readonly file: string, private readonly entries: Entry[]) {}

  static load(file: string): KnownHosts {
    const entries: Entry[] = [];
    let text = "";
    try {
      text = existsSync(file) ? readFileSync(file, "utf8") : "";
    } catch (err) {
      throw new MaandError(`cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? String(err)}): maand records and checks the workers' host keys there`, 1, { cause: err });
    }
    for (const line of text.split("\n")) {
      const e = parseLine(line);
      if (e) entries.push(e);
    }
    return new KnownHosts(file, entries);
  }

  verify(host: string, port: number, blob: Buffer): HostKeyVerdict {
    const name = hostPattern(host, port);
    const mine = this.entries.filter((e) => e.marker !== "@cert-authority" && matches(e.patterns, name));
    const presented = fingerprint(blob);
    if (mine.some((e) => e.marker === "@revoked" && e.blob.equals(blob))) return { status: "revoked", presentedFingerprint: presented };
    const keys = mine.filter((e) => !e.marker);
    if (keys.length === 0) return { status: "unknown" };
    if (keys.some((e) => e.blob.equals(blob))) return { status: "known" };
    const sameType = keys.find((e) => e.type === keyType(blob)) ?? keys[0];
    return { status: "changed", knownFingerprint: fingerprint(sameType.blob), presentedFingerprint: presented };
  }

  /**
   * Host key algorithms to offer for a known host: only the recorded types, so the server
   * presents a key we can compare instead of another type we have never seen.
   */
  algorithmsFor(host: string, port: number): ServerHostKeyAlgorithm[] | undefined {
    const name = hostPattern(host, port);
    const types = new Set(this.entries.filter((e) => !e.marker && matches(e.patterns, name)).map((e) => e.type));
    // Only types ssh2 can negotiate; a host known solely by another type is then offered the
    // defaults and its key, of a type not on record, is refused as changed.
    const algos = [...types].flatMap((t) => (t === "ssh-rsa" ? ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"] : [t])).filter((a) => NEGOTIABLE.has(a));
    return algos.length ? (algos as ServerHostKeyAlgorithm[]) : undefined;
  }

  /** Appends the key (file created 0600; its directory too if missing). */
  add(host: string, port: number, blob: Buffer): void {
    const entry: Entry = { patterns: [hostPattern(host, port)], type: keyType(blob), blob };
    mkdirSync(dirname(this.file), { recursive: true });
    const needsNewline = existsSync(this.file) && statSync(this.file).size > 0 && !readFileSync(this.file, "latin1").endsWith("\n");
    appendFileSync(this.file, `${needsNewline ? "\n" : ""}${entry.patterns[0]} ${entry.type} ${blob.toString("base64")}\n`, { mode: 0o600 });
    // The mode option only applies when the file is created; a copied-in file may be wider.
    if ((statSync(this.file).mode & 0o077) !== 0) chmodSync(this.file, 0o600);
    this.entries.push(entry);
  }
}

function parseLine(raw: string): Entry | undefined {
  const line = raw.trim();
  if (!line || line.startsWith("#")) return undefined;
  const fields = line.split(/\s+/);
  let marker: Entry["marker"];
  if (fields[0] === "@revoked" || fields[0] === "@cert-authority") marker = fields.shift() as Entry["marker"];
  if (fields.length < 3) return undefined;
  const blob = Buffer.from(fields[2], "base64");
  if (blob.length === 0) return undefined;
  return { patterns: fields[0].split(","), marker, type: fields[1], blob };
}

/** OpenSSH semantics: any negated match rejects; otherwise any positive match accepts. */
function matches(patterns: string[], name: string): boolean {
  let hit = false;
  for (const p of patterns) {
    if (p.startsWith("|1|")) {
      if (hashedMatch(p, name)) hit = true;
    } else if (p.startsWith("!")) {
      if (globMatch(p.slice(1), name)) return false;
    } else if (globMatch(p, name)) hit = true;
  }
  return hit;
}

function hashedMatch(p: string, name: string): boolean {
  const [, , salt, hash] = p.split("|");
  if (!salt || !hash) return false;
  return createHmac("sha1", Buffer.from(salt, "base64")).update(name).digest("base64") === hash;
}

function globMatch(pattern: string, name: string): boolean {
  if (!/[*?]/.test(pattern)) return pattern.toLowerCase() === name.toLowerCase();
  const re = pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
  return new RegExp(`^${re}$`, "i").test(name);
}
