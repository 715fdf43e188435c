"""Calls every helper and alias of the generated sdk-python/maand.py against a live runtime API.

Run by test/sdk/live.test.ts next to a copy of maand.py, as a hook would be: the hook
environment comes from the test, and MAAND_TEST_SPEC (JSON) carries the SDK's name tables,
the hook variable names and what to write. Checks that need only the SDK's own results are
asserted here; everything the server decides (statuses, messages, stored rows) is printed as
JSON for the test to compare with the router's catalogue and the database.
"""
import json
import os
import sys

sys.dont_write_bytecode = True
import maand  # noqa: E402

SPEC = json.loads(os.environ["MAAND_TEST_SPEC"])
ENV = SPEC["env"]
JOB = os.environ[ENV["job"]]
VARS, SECRETS = "vars/job/" + JOB, "secrets/job/" + JOB
out = {}


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def error_of(call):
    try:
        res = call()
        res.raise_for_status()
    except maand.MaandAPIError as e:
        return [e.status_code, e.message, e.code]
    raise AssertionError("expected an error, got %r" % res)


class patched_env(object):
    def __init__(self, **changes):
        self.changes = changes

    def __enter__(self):
        self.saved = dict(os.environ)
        for k, v in self.changes.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v

    def __exit__(self, *exc):
        os.environ.clear()
        os.environ.update(self.saved)


# Every name of the note's tables and every alias exists; an alias is the same function.
names = SPEC["helpers"] + SPEC["python_only"] + list(SPEC["aliases"])
missing = [n for n in names if not callable(getattr(maand, n, None))]
check(not missing, "missing helpers: %s" % missing)
for alias, target in SPEC["aliases"].items():
    check(getattr(maand, alias) is getattr(maand, target), alias)

# Context
context = ["allocation_id", "allocation_ip", "allocation_index", "job_name", "hook_event", "hook_name",
           "is_allocation_disabled", "is_one_shot"]
out["context"] = dict((n, getattr(maand, n)()) for n in context)
out["context_aliases"] = dict((a, getattr(maand, a)()) for a, t in SPEC["aliases"].items() if t in context)

# Variables
res = maand.put_job_variable("py_db_url", "postgres://py/api")
out["put_variable"] = [res.status_code, res.ok, res.json()]
check(maand.get_kv_value(VARS, "py_db_url") == "postgres://py/api", "get_kv_value after put")
check(maand.get_kv_value(VARS, "py_db_url", default=None) == "postgres://py/api", "get_kv_value with a default, key present")
res = maand.get_store_value(VARS, "py_db_url")
out["store_value"] = [res.status_code, res.json()]
maand.kv_put("py_cfg", {"replicas": 2}, ttl=3600).raise_for_status()
# kv_get returns the response, as the original: kv_get(ns, key).json()["value"]
check(json.loads(maand.kv_get(VARS, "py_cfg").json()["value"]) == {"replicas": 2}, "kv_put of a dict stores JSON text")
check(maand.kv_get_response(VARS, "py_cfg").json()["value"] == '{"replicas": 2}', "kv_get_response")
maand.put_job_variable("py_tmp", "x").raise_for_status()
res = maand.delete_job_variable("py_tmp")
out["delete_variable"] = [res.status_code, res.json()]
check(maand.get_kv_value(VARS, "py_tmp", default=None) is None, "deleted variable reads as the default")
maand.kv_put("py_tmp2", "y").raise_for_status()
maand.kv_delete("py_tmp2").raise_for_status()
check(maand.kv_get(VARS, "py_tmp2").status_code == 404, "kv_delete")
out["missing_value"] = maand.get_kv_value(VARS, "never_written", default=None)
out["missing_default"] = maand.get_kv_value(VARS, "never_written", default="fallback")

# Secrets round-trip (stored encrypted: the test checks the raw rows)
secret = SPEC["secret"]
res = maand.put_job_secret("py_password", secret)
out["put_secret"] = [res.status_code, res.json()]
check(maand.get_kv_value(SECRETS, "py_password") == secret, "secret round-trip")
maand.kv_put_secret("py_token", secret + "-2", ttl=600).raise_for_status()
check(maand.kv_get(SECRETS, "py_token").json()["value"] == secret + "-2", "kv_put_secret round-trip")
maand.put_job_secret("py_gone", "z").raise_for_status()
out["delete_secret"] = maand.delete_job_secret("py_gone").json()
maand.kv_put_secret("py_gone2", "z").raise_for_status()
maand.kv_delete_secret("py_gone2").raise_for_status()
check(maand.get_kv_value(SECRETS, "py_gone", None) is None and maand.get_kv_value(SECRETS, "py_gone2", None) is None, "secrets deleted")

# Keys
out["keys"] = maand.list_job_keys().json()
out["keys_vars"] = maand.kv_keys(VARS).json()
check(maand.list_job_keys(namespace=VARS).json() == out["keys_vars"], "list_job_keys(namespace=) as the original")
check(maand.kv_list(VARS).json() == out["keys_vars"], "kv_list")
check(secret not in maand.list_job_keys(SECRETS).text, "key listing never shows secret values")

# Rollout order (the hook runs on cli, where it may be set)
maand.put_rollout_order(list(reversed(SPEC["workers"]))).raise_for_status()
out["rollout_order"] = maand.rollout_order()
maand.set_rollout_order(",".join(SPEC["workers"])).raise_for_status()
out["rollout_order_2"] = maand.rollout_order()
res = maand.get_rollout_order()
check(res.json()["value"] == ",".join(SPEC["workers"]), "get_rollout_order returns the response, as the original")

# Upstream read (this hook demands the upstream job)
out["upstream"] = maand.get_kv_value(SPEC["upstream"][0], SPEC["upstream"][1])

# Demands: as this hook, and as the upstream hook that others demand
out["demands"] = maand.list_hook_demands().json()
with patched_env(**SPEC["upstream_invocation_env"]):
    out["demands_upstream"] = maand.list_hook_demands().json()
    check(maand.get_demands().json() == out["demands_upstream"], "get_demands")

# Semaphores
res = maand.acquire_semaphore("py_mig", capacity=2, timeout_seconds=5)
out["acquire"] = [res.status_code, res.json()]
maand.semaphore_acquire("py_mig").raise_for_status()
out["status_held"] = maand.semaphore_status("py_mig").json()
out["release"] = maand.release_semaphore("py_mig").json()
out["status_free"] = maand.get_semaphore_status("py_mig").json()
maand.acquire_semaphore("py_default").raise_for_status()
out["status_default"] = maand.semaphore_status("py_default").json()
maand.semaphore_release("py_default").raise_for_status()

# Errors: raise_for_status carries the server's status, message and code
out["errors"] = {
    "release_without_hold": error_of(lambda: maand.release_semaphore("py_mig")),
    "namespace_denied": error_of(lambda: maand.api_put_kv(namespace="vars/bucket", key="x", value="y")),
    "read_denied": error_of(lambda: maand.get_store_value(SPEC["unrelated_vars"], "ttl")),
    "missing_key": error_of(lambda: maand.get_store_value(VARS, "never_written")),
    "delete_missing": error_of(lambda: maand.delete_job_variable("never_written")),
    "delete_missing_secret": error_of(lambda: maand.delete_job_secret("never_written")),
    "bad_rollout_order": error_of(lambda: maand.put_rollout_order(["10.9.9.9"])),
    "bad_capacity": error_of(lambda: maand.acquire_semaphore("py_bad", capacity=0)),
}


def raised(call):
    try:
        call()
    except maand.MaandAPIError as e:
        return [e.status_code, e.message, e.code]
    raise AssertionError("expected MaandAPIError")


# A missing key raises without a default, as the original; a default only covers "key not
# found" (judged by the error code), never a denied namespace or a wrong allocation, whose 404
# looks the same by status.
out["errors"]["get_kv_value_missing"] = raised(lambda: maand.get_kv_value(VARS, "never_written"))
out["errors"]["get_kv_value_denied"] = raised(lambda: maand.get_kv_value(SPEC["unrelated_vars"], "ttl", default=None))
with patched_env(**{ENV["allocationId"]: SPEC["foreign_allocation_id"]}):
    out["errors"]["get_kv_value_wrong_allocation"] = raised(lambda: maand.get_kv_value(VARS, "never_written", default=None))
with patched_env(**{ENV["apiToken"]: None}):
    out["errors"]["no_token"] = error_of(lambda: maand.list_job_keys())
with patched_env(**{ENV["allocationId"]: None}):
    out["errors"]["no_allocation_id"] = error_of(lambda: maand.list_job_keys())
with patched_env(**{ENV["apiPort"]: str(SPEC["closed_port"])}):
    out["errors"]["unreachable"] = error_of(lambda: maand.list_job_keys())

# SSH helpers: settings from BUCKET_ROOT/maand.conf, bucket id through the API, the real ssh binary
conf = maand.load_ssh()
user, key_path, use_sudo = conf  # the original's shape
out["ssh_conf"] = [user, key_path, use_sudo, conf.port]
out["bucket_root"] = str(maand.find_bucket_root())
out["bucket_id"] = maand._target_context(None, None, None)[2]
closed = maand.SshConfig(conf.user, conf.key_path, False, SPEC["closed_port"])
res = maand.run_runner_target("start", conf=closed, check=False, options=("-o", "UserKnownHostsFile=/dev/null"))
out["runner_exit"] = res.returncode
res = maand.run_make_target("reload", conf=closed, check=False, options=("-o", "UserKnownHostsFile=/dev/null"))
out["make_exit"] = res.returncode
try:
    maand.run_make_target("reload", conf=closed, options=("-o", "UserKnownHostsFile=/dev/null"))
    raise AssertionError("run_make_target must raise CalledProcessError by default (check=True)")
except __import__("subprocess").CalledProcessError as e:
    out["make_check"] = [e.returncode, "port %d" % SPEC["closed_port"] in e.stderr]

print(json.dumps(out))
