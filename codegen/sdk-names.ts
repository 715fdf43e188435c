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
