import type { WorkspaceProblem } from "./errors.js";

/**
 * The validated workspace: what `readWorkspace()` returns once every file has been checked.
 * Build consumes only this model, never the files, so validation is complete before anything
 * is written.
 */

export const HOOK_EVENTS = [
  "post_build",
  "pre_deploy",
  "post_deploy",
  "job_control",
  "health_check",
  "cli",
  "after_allocation_started",
  "after_allocation_stopped",
] as const;
export type HookEvent = (typeof HOOK_EVENTS)[number];

export const RESTART_POLICIES = ["always", "restart", "reload", "never"] as const;
export type RestartPolicy = (typeof RESTART_POLICIES)[number];

export interface WorkerSpec {
  host: string;
  /** Index in workers.json: defines catalog order. */
  position: number;
  /** As given, de-duplicated, with "worker" always present. */
  labels: string[];
  hostname: string;
  memoryMb: number;
  cpuMhz: number;
  tags: Record<string, string>;
}

export interface HookDemand {
  job: string;
  hook: string;
  config: Record<string, unknown>;
}

export interface HookSpec {
  name: string;
  /** Path of the script relative to the job root, e.g. "_hooks/hook_migrate.py". */
  script: string;
  executedOn: HookEvent[];
  demands?: HookDemand;
  timeoutSeconds: number;
}

/** A port: a number, or the name of a KV key holding it (looked up in the job's namespaces, see server/health/input.ts). */
export type ProbePort = number | string;

export type HealthCheckProbe =
  | { type: "tcp"; port: ProbePort }
  | { type: "http"; port: ProbePort; path: string; expect_status: number; scheme: "http" | "https"; expect_body?: string }
  | { type: "ssh"; command: string };

export interface HealthCheckSpec {
  checks: HealthCheckProbe[];
  timeoutSeconds: number;
  wait: { attempts: number; intervalSeconds: number };
}

export interface CertSpec {
  name: string;
  subject: { common_name: string; [field: string]: string };
  pkcs8: boolean;
}

export interface JobFile {
  /** POSIX path relative to the job root. */
  path: string;
  /** Permission bits (e.g. 0o755). */
  mode: number;
  /** sha256 hex of content. */
  hash: string;
  content: Buffer;
}

export interface JobSpec {
  name: string;
  /** Normalised semver ("v2.1" -> "2.1.0"); "0.0.0" when absent. */
  version: string;
  /** As given; [name] when omitted or empty. */
  selectors: string[];
  maxConcurrentUpgrades: number;
  maxConcurrentStarts: number;
  restartPolicy: RestartPolicy;
  hooks: HookSpec[];
  healthCheck?: HealthCheckSpec;
  certs: CertSpec[];
  /** Upstream-first wave number from hook demands: 0 for jobs that demand nothing. */
  deploymentSeq: number;
  /** The manifest as parsed, stored in the catalog for reference. */
  manifest: Record<string, unknown>;
  files: JobFile[];
}

export interface DisabledSpec {
  /** job -> "all" (the whole job) or the worker IPs whose allocations are disabled. */
  jobs: Record<string, "all" | string[]>;
  workers: string[];
}

/** KV variables: TOML scalars as strings, arrays and tables as JSON. */
export type Vars = Record<string, string>;

export interface Workspace {
  workers: WorkerSpec[];
  /** Sorted by name. */
  jobs: JobSpec[];
  disabled: DisabledSpec;
  bucketVars: Vars;
  /** job -> vars from bucket.jobs.conf (or bucket.jobs.<selector>.conf); every job has an entry ({} when none). */
  bucketJobVars: Record<string, Vars>;
  /** job -> vars from the job's vars.toml; every job has an entry ({} when none). */
  jobVars: Record<string, Vars>;
  /** Found while reading, not severe enough to refuse the build; build prints them. */
  warnings: WorkspaceProblem[];
}
