import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { parse, TomlError } from "smol-toml";
import { BucketError } from "../errors.js";

/** maand.conf, with SPEC §3 defaults. */
export interface MaandConf {
  ssh_user: string;
  ssh_key: string;
  ssh_port: number;
  use_sudo: boolean;
  /** Workers maand holds an SSH connection to at once (deploy, job control, health checks). */
  ssh_max_workers: number;
  /** Seconds to connect and authenticate to a worker before it is reported unreachable. */
  ssh_connect_timeout: number;
  /**
   * Seconds the SSH connection holder keeps worker connections open after the last command
   * that used them (like OpenSSH's ControlPersist); 0: every command connects anew.
   */
  ssh_persist: number;
  hook_api_port: number;
  hook_api_auth: "token" | "headers";
  job_config_selector: string;
  certs_ttl: number;
  certs_renewal_buffer: number;
  log_format: "text" | "json";
}

export const DEFAULT_CONF: Readonly<MaandConf> = {
  ssh_user: "agent",
  ssh_key: "worker.key",
  ssh_port: 22,
  use_sudo: true,
  ssh_max_workers: 32,
  ssh_connect_timeout: 10,
  ssh_persist: 60,
  hook_api_port: 8080,
  hook_api_auth: "token",
  job_config_selector: "",
  certs_ttl: 60,
  certs_renewal_buffer: 10,
  log_format: "text",
};

export function renderDefaultConf(): string {
  return Object.entries(DEFAULT_CONF)
    .map(([k, v]) => `${k} = ${typeof v === "string" ? JSON.stringify(v) : String(v)}`)
    .join("\n") + "\n";
}

type Check = (v: unknown) => string | undefined;
const int = (min: number, max: number): Check => (v) =>
  typeof v === "number" && Number.isInteger(v) && v >= min && v <= max ? undefined : `an integer from ${min} to ${max}`;
const str: Check = (v) => (typeof v === "string" ? undefined : "a string");
const nonEmpty: Check = (v) => (typeof v === "string" && v.length > 0 ? undefined : "a non-empty string");
const bool: Check = (v) => (typeof v === "boolean" ? undefined : "true or false");
const oneOf = (...xs: string[]): Check => (v) => (xs.includes(v as string) ? undefined : `one of ${xs.map((x) => JSON.stringify(x)).join(", ")}`);

const CHECKS: Record<keyof MaandConf, Check> = {
  ssh_user: nonEmpty,
  ssh_key: nonEmpty,
  ssh_port: int(1, 65535),
  use_sudo: bool,
  ssh_max_workers: int(1, 1024),
  ssh_connect_timeout: int(1, 600),
  ssh_persist: int(0, 86400),
  hook_api_port: int(0, 65535),
  hook_api_auth: oneOf("token", "headers"),
  job_config_selector: str,
  certs_ttl: int(1, 36500),
  certs_renewal_buffer: int(0, 36500),
  log_format: oneOf("text", "json"),
};

/**
 * Values the original maand spelled differently, read as the current ones: its log_format was
 * "kv" (key=value text lines) or "jsonl" (JSON lines), which are this maand's "text" and "json".
 */
const ORIGINAL_VALUES: Partial<Record<keyof MaandConf, Readonly<Record<string, string>>>> = {
  log_format: { kv: "text", jsonl: "json" },
};

export interface ConfRead {
  conf: MaandConf;
  /** One line per file (maand.conf): original spellings that were read as current ones. */
  warnings: string[];
}

/** Reads and validates maand.conf; every problem is reported at once. */
export function readConf(file: string): MaandConf {
  return readConfFile(file).conf;
}

/** readConf, plus what is worth a warning (printed by `maand build`, where settings are checked). */
export function readConfFile(file: string): ConfRead {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new BucketError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? err}`);
  }
  let raw: Record<string, unknown>;
  try {
    raw = parse(text) as Record<string, unknown>;
  } catch (err) {
    const e = err as TomlError;
    throw new BucketError(`${file}:${e.line ?? "?"}:${e.column ?? "?"}: invalid TOML: ${e.message.split("\n")[0]}`);
  }
  const conf: MaandConf = { ...DEFAULT_CONF };
  const problems: string[] = [];
  const renamed: string[] = [];
  for (const [k, rawValue] of Object.entries(raw)) {
    const check = CHECKS[k as keyof MaandConf];
    if (!check) {
      problems.push(`unknown setting ${k} (known: ${Object.keys(CHECKS).join(", ")})`);
      continue;
    }
    const originals = ORIGINAL_VALUES[k as keyof MaandConf];
    const current = typeof rawValue === "string" && originals && Object.hasOwn(originals, rawValue) ? originals[rawValue] : undefined;
    if (current !== undefined) renamed.push(`${k} = ${JSON.stringify(rawValue)} (the original maand's spelling) is read as ${JSON.stringify(current)}: write ${k} = ${JSON.stringify(current)}`);
    const v = current ?? rawValue;
    const expected = check(v);
    if (expected) problems.push(`${k} = ${JSON.stringify(v)}: expected ${expected}`);
    else (conf as unknown as Record<string, unknown>)[k] = v;
  }
  if (problems.length) throw new BucketError(`${file}: ${problems.join("; ")}`);
  return { conf, warnings: renamed.length ? [`${basename(file)}: ${renamed.join("; ")}`] : [] };
}
