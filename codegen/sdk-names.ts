/**
 * The SDK surface both generated SDKs must offer, defined once: the note's helper tables
 * (snake_case, as in maand.py; maand.ts exports the camelCase twin and the snake_case name)
 * and the alias set. The generator checks every helper exists in the templates and emits the
 * aliases for both languages from this table, so the two SDKs cannot offer different names.
 */
export const HELPERS = [
  // context
  "allocation_id",
  "allocation_ip",
  "allocation_index",
  "job_name",
  "hook_event",
  "hook_name",
  "is_allocation_disabled",
  "is_one_shot",
  // KV
  "get_store_value",
  "get_kv_value",
  "put_rollout_order",
  "get_rollout_order",
  "rollout_order",
  "put_job_variable",
  "put_job_secret",
  "delete_job_variable",
  "delete_job_secret",
  "list_job_keys",
  // demands and semaphores
  "list_hook_demands",
  "acquire_semaphore",
  "release_semaphore",
  "semaphore_status",
] as const;

export type Helper = (typeof HELPERS)[number];

/** Worker SSH helpers: Python only (Bun scripts call ssh themselves, per the note). */
export const PYTHON_ONLY_HELPERS = ["find_bucket_root", "load_ssh", "run_ssh", "run_runner_target", "run_make_target"] as const;

export type PythonOnlyHelper = (typeof PYTHON_ONLY_HELPERS)[number];

/**
 * What each helper returns or does, one line, for the README's helper tables (codegen/readme.ts,
 * written by `npm run generate`). "The response" is a requests-like Response in Python and a
 * Promise of a Response in TypeScript. The type makes a missing or stray entry a compile error.
 */
export const DESCRIPTIONS: Readonly<Record<Helper | PythonOnlyHelper, string>> = {
  allocation_id: "this invocation's allocation ID (`ALLOCATION_ID`)",
  allocation_ip: "the allocation's worker address (`ALLOCATION_IP`)",
  allocation_index: "the allocation's index among the job's allocations, as a string (`ALLOCATION_INDEX`)",
  job_name: "the job's name (`JOB`)",
  hook_event: "the event the hook runs for: `cli`, `post_build`, ... (`EVENT`)",
  hook_name: "the running hook's name (`HOOK`, the same as `COMMAND`)",
  is_allocation_disabled: "true when the allocation is disabled in disabled.json (`DISABLED=1`)",
  is_one_shot: "true for exactly one invocation per run and job (`ONE_SHOT`)",
  get_store_value: "GET a KV key; returns the response (`json()` has `value`)",
  get_kv_value: "a key's value as a string; fails on a missing key unless given a default",
  put_rollout_order: "sets this job's rollout order (a list of worker IPs; `pre_deploy` or `cli`)",
  get_rollout_order: "GET this job's `rollout_order` key; returns the response",
  rollout_order: "the stored rollout order as a list of IPs (empty when none is set)",
  put_job_variable: "writes `key = value` (non-strings as JSON) to `vars/job/<job>`, optional ttl",
  put_job_secret: "writes an encrypted secret to `secrets/job/<job>`, optional ttl",
  delete_job_variable: "deletes a key of `vars/job/<job>`",
  delete_job_secret: "deletes a key of `secrets/job/<job>`",
  list_job_keys: "the job's variable and secret key names (never secret values)",
  list_hook_demands: "the downstream hooks that demand this hook, with their demand config",
  acquire_semaphore: "blocks until this allocation holds a slot of a named semaphore",
  release_semaphore: "gives the slot back (also done when the hook's process ends)",
  semaphore_status: "a semaphore's capacity, free slots and holders",
  find_bucket_root: "the bucket directory (`BUCKET_ROOT`, else the nearest maand.conf upwards)",
  load_ssh: "the bucket's SSH settings: (user, key path, use_sudo), plus `.port`",
  run_ssh: "runs a command on a worker over SSH with the bucket's settings",
  run_runner_target: "runs a runner.py target for this job on its worker, as deploy does",
  run_make_target: "runs a Makefile target of this job on its worker",
};

/**
 * alias -> helper it stands for: the note's aliases and every name of the original maand.py /
 * maand.ts, so scripts written for the original run unchanged (command_* were its names for
 * the hook's event and name; kv_get returned the response; *_deploy_order its rollout order).
 */
export const ALIASES: Readonly<Record<string, Helper>> = {
  get_allocation_id: "allocation_id",
  get_allocation_ip: "allocation_ip",
  get_allocation_index: "allocation_index",
  get_job: "job_name",
  get_job_name: "job_name",
  get_event: "hook_event",
  get_hook_event: "hook_event",
  command_event: "hook_event",
  get_hook: "hook_name",
  get_hook_name: "hook_name",
  command_name: "hook_name",
  get_command: "hook_name",
  is_disabled: "is_allocation_disabled",
  kv_get: "get_store_value",
  kv_get_response: "get_store_value",
  kv_put: "put_job_variable",
  kv_put_secret: "put_job_secret",
  kv_delete: "delete_job_variable",
  kv_delete_secret: "delete_job_secret",
  kv_keys: "list_job_keys",
  kv_list: "list_job_keys",
  set_rollout_order: "put_rollout_order",
  put_deploy_order: "put_rollout_order",
  get_deploy_order: "get_rollout_order",
  get_demands: "list_hook_demands",
  list_command_demands: "list_hook_demands",
  semaphore_acquire: "acquire_semaphore",
  semaphore_release: "release_semaphore",
  get_semaphore_status: "semaphore_status",
};

export const camelCase = (snake: string): string => snake.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

export const snakeCase = (camel: string): string => camel.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

export const pascalCase = (name: string): string => name.charAt(0).toUpperCase() + camelCase(name).slice(1);
