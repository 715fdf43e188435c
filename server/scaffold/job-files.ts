/**
 * The files `maand job create` writes: the smallest job that builds, places and runs its hook,
 * each file saying what it is for. The job name is checked (NAME_PATTERN) before it gets here,
 * so it can be written into the files as it is: no quotes, `$` or newlines in it.
 */

export const EXAMPLE_HOOK = "hook_example";
export const EXAMPLE_VERSION = "0.1.0";
export const LIFECYCLE_TARGETS = ["start", "stop", "restart", "reload"] as const;

export interface ScaffoldFile {
  /** Relative to the job directory. */
  path: string;
  content: string;
  mode: number;
}

export function jobScaffold(job: string, selectors: readonly string[]): ScaffoldFile[] {
  // Laid out by hand: JSON.stringify's one-element-per-line arrays read worse than this.
  const manifest = [
    "{",
    `  "version": ${JSON.stringify(EXAMPLE_VERSION)},`,
    `  "selectors": ${JSON.stringify(selectors)},`,
    `  "hooks": {`,
    `    ${JSON.stringify(EXAMPLE_HOOK)}: { "executed_on": ["cli"] }`,
    "  }",
    "}",
    "",
  ].join("\n");
  return [
    { path: "manifest.json", content: manifest, mode: 0o644 },
    { path: "Makefile", content: makefile(job), mode: 0o644 },
    { path: "vars.toml", content: VARS, mode: 0o644 },
    { path: `_hooks/${EXAMPLE_HOOK}.py`, content: exampleHook(job), mode: 0o755 },
  ];
}

function makefile(job: string): string {
  const echo: Record<(typeof LIFECYCLE_TARGETS)[number], string> = {
    start: `start ${job} $(NEW_VERSION)`,
    stop: `stop ${job} $(CURRENT_VERSION)`,
    restart: `restart ${job} $(CURRENT_VERSION) -> $(NEW_VERSION)`,
    reload: `reload ${job} $(CURRENT_VERSION) -> $(NEW_VERSION)`,
  };
  return [
    `# Lifecycle of job ${job} on each worker: deploy runs start for a new allocation and restart or`,
    "# reload (manifest restart_policy) for a changed one, stop for a removed or disabled one.",
    "# CURRENT_VERSION is the version deployed on the worker (empty before the first start),",
    "# NEW_VERSION the manifest's. Replace the echo lines with the real commands.",
    `.PHONY: ${LIFECYCLE_TARGETS.join(" ")}`,
    "",
    ...LIFECYCLE_TARGETS.flatMap((t) => [`${t}:`, `\t@echo "${echo[t]}"`, ""]),
  ].join("\n").replace(/\n+$/, "\n");
}

const VARS = `# Job variables: KV vars/job/<job>, read by this job's hooks (get_kv_value) and templates
# (get). Build merges them in; keys a hook wrote with put_job_variable are kept.
greeting = "hello"
`;

function exampleHook(job: string): string {
  return `# Example hook of job ${job}, registered for \`cli\` in manifest.json. Run it with
#   maand hooks ${EXAMPLE_HOOK} ${job} --verbose
# It runs on the CLI host once per allocation, in a staged copy of the job, with the generated
# SDK (maand.py) placed next to it.
from maand import allocation_ip, get_kv_value, job_name, put_job_variable

# vars.toml is KV vars/job/<job>; the default keeps the hook working if the key is removed.
greeting = get_kv_value("vars/job/" + job_name(), "greeting", default="hello")
print("%s from %s" % (greeting, allocation_ip()))

# Kept across builds, and committed only if every allocation of the run succeeds.
put_job_variable("example_greeted_" + allocation_ip(), greeting).raise_for_status()
`;
}
