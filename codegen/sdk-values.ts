import { API_ERRORS } from "../server/api/errors.js";
import { BEARER_SCHEME, HEADERS, JSON_CONTENT_TYPE } from "../server/api/request-headers.js";
import { basename } from "node:path";
import { DEFAULT_CONF } from "../server/bucket/conf.js";
import { bucketPaths } from "../server/bucket/paths.js";
import { knownHostsPath } from "../server/workers/options.js";
import { jobDir, runnerPath } from "../server/workers/layout.js";
import { HOOK_ENV } from "../server/hooks/env-names.js";
import type { OpenApiDocument } from "./document.js";
import type { SdkValue } from "./fill-template.js";
import { ContractError, headerParameters } from "./operations.js";
import { snakeCase } from "./sdk-names.js";
import { BUCKET_ID_KEY, NS, type NamespaceKind, ROLLOUT_ORDER_KEY, parseNamespace } from "../server/kv/namespaces.js";

/**
 * Every constant the SDK templates leave to the generator (`codegen:value` lines), taken from
 * openapi.json and the router's and hook engine's own definitions, never typed in twice.
 * Keys are camelCase; the Python renderer converts the keys of ENV to snake_case.
 */

/** Scope header -> the hook environment variables that fill it, first non-empty wins. */
const SCOPE_HEADER_ENV: Record<"allocationId" | "event" | "command", readonly string[]> = {
  allocationId: [HOOK_ENV.allocationId],
  event: [HOOK_ENV.event],
  // The API binds each token to the hook it was issued for, and HOOK is that hook's name; the
  // note's COMMAND variable (the same name for hooks) is the fallback for a caller that sets only it.
  command: [HOOK_ENV.hook, HOOK_ENV.command],
};

/** KV namespaces the helpers address (`{job}` = the current job); each is checked against the router's parser. */
const NAMESPACES: Record<string, { pattern: string; kind: NamespaceKind }> = {
  bucket_meta: { pattern: NS.bucket, kind: "bucketMeta" },
  job_meta: { pattern: NS.job("{job}"), kind: "jobMeta" },
  job_vars: { pattern: NS.jobVars("{job}"), kind: "jobVars" },
  job_secrets: { pattern: NS.jobSecrets("{job}"), kind: "jobSecrets" },
};

/** The worker layout deploy uses (server/workers/layout.ts), with {bucket_id} and {job} to fill in. */
const WORKER_LAYOUT = {
  RUNNER_PATH: runnerPath("{bucket_id}"),
  JOB_DIR: jobDir("{bucket_id}", "{job}"),
  /** secrets/<this>: the host keys deploy records on first contact (server/workers/options.ts). */
  KNOWN_HOSTS_FILE: basename(knownHostsPath(bucketPaths("/"))),
};

function serverAddress(doc: OpenApiDocument): { host: string; port: number } {
  const url = (doc.servers as Array<{ url?: unknown }> | undefined)?.[0]?.url;
  if (typeof url !== "string") throw new ContractError("servers[0].url is missing");
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port || (u.protocol === "https:" ? 443 : 80)) };
}

function checkHeaders(doc: OpenApiDocument): void {
  const declared = headerParameters(doc);
  const mapped = Object.keys(SCOPE_HEADER_ENV).map((k) => HEADERS[k as keyof typeof SCOPE_HEADER_ENV]);
  const key = (xs: readonly string[]) => [...xs].sort().join(", ");
  if (key(declared) !== key(mapped)) {
    throw new ContractError(`operations declare the headers ${key(declared)}, the SDK maps ${key(mapped)} to environment variables (codegen/sdk-values.ts)`);
  }
  const schemes = (doc.components as { securitySchemes?: Record<string, { type?: string; scheme?: string }> } | undefined)?.securitySchemes ?? {};
  if (!Object.values(schemes).some((s) => s.type === "http" && s.scheme?.toLowerCase() === BEARER_SCHEME.toLowerCase())) {
    throw new ContractError("no http bearer security scheme is declared");
  }
}

function checkNamespaces(): void {
  for (const [name, { pattern, kind }] of Object.entries(NAMESPACES)) {
    const parsed = parseNamespace(pattern.replace("{job}", "job"));
    if (parsed?.kind !== kind) throw new ContractError(`namespace ${name} = ${pattern} is not a ${kind} namespace for the router`);
  }
}

export function sdkValues(doc: OpenApiDocument): Record<string, SdkValue> {
  checkHeaders(doc);
  checkNamespaces();
  const { host, port } = serverAddress(doc);
  return {
    ENV: { ...HOOK_ENV },
    HEADER_ENV: Object.fromEntries(Object.entries(SCOPE_HEADER_ENV).map(([k, vars]) => [HEADERS[k as keyof typeof SCOPE_HEADER_ENV], vars])),
    AUTH_HEADER: HEADERS.authorization,
    AUTH_SCHEME: BEARER_SCHEME,
    CONTENT_TYPE_HEADER: HEADERS.contentType,
    JSON_CONTENT_TYPE,
    DEFAULT_HOST: host,
    DEFAULT_PORT: port,
    NAMESPACES: Object.fromEntries(Object.entries(NAMESPACES).map(([k, v]) => [k, v.pattern])),
    ROLLOUT_ORDER_KEY,
    KEY_NOT_FOUND_CODE: API_ERRORS.keyNotFound.code,
    BUCKET_ID_KEY,
    ...WORKER_LAYOUT,
    SSH_DEFAULTS: {
      ssh_user: DEFAULT_CONF.ssh_user,
      ssh_key: DEFAULT_CONF.ssh_key,
      ssh_port: DEFAULT_CONF.ssh_port,
      use_sudo: DEFAULT_CONF.use_sudo,
    },
  };
}

/** The Python spelling of the values: ENV keys in snake_case. */
export function pythonValues(values: Record<string, SdkValue>): Record<string, SdkValue> {
  const env = values.ENV as Record<string, string>;
  return { ...values, ENV: Object.fromEntries(Object.entries(env).map(([k, v]) => [snakeCase(k), v])) };
}
