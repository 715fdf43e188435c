# maand hook SDK, Python helpers: the note's helper tables, hand-written (in
# codegen/templates/python/helpers.py) on top of the generated api_* functions, one per
# openapi.json operation. Lines marked "codegen:strip" exist only in the template, for editors.
import json

from maand import (  # codegen:strip
    api_acquire_semaphore, api_delete_kv, api_delete_secret, api_get_kv, api_list_demands,  # codegen:strip
    api_list_keys, api_put_kv, api_put_secret, api_release_semaphore, api_semaphore_status,  # codegen:strip
)  # codegen:strip
from runtime import api_error, job_name  # codegen:strip

ENV = {}  # codegen:value
NAMESPACES = {}  # codegen:value
ROLLOUT_ORDER_KEY = ""  # codegen:value
KEY_NOT_FOUND_CODE = ""  # codegen:value

# Marks "no default given": None is a legitimate default.
_REQUIRED = object()


def _job_namespace(kind, job=None):
    job = job or job_name()
    if not job:
        raise api_error(None, "%s is not set: run this inside a maand hook" % ENV["job"])
    return NAMESPACES[kind].replace("{job}", job)


def _is_key_not_found(res):
    """The key does not exist: judged by the error code, since 404 is also what a wrong
    ALLOCATION_ID or an unknown route gets."""
    return not res.ok and res.error_body()[1] == KEY_NOT_FOUND_CODE


def _as_value(value):
    """KV values are strings; anything else is stored as its JSON text."""
    return value if isinstance(value, str) else json.dumps(value)


# KV

def get_store_value(namespace, key):
    """GET the key; returns the Response ({"namespace", "key", "value"} on 200). kv_get is
    this function, as in the original: kv_get(ns, key).json()["value"]."""
    return api_get_kv(namespace=namespace, key=key)


def get_kv_value(namespace, key, default=_REQUIRED):
    """The plaintext value (a string: parse JSON yourself). A missing key raises MaandAPIError,
    as in the original, unless a `default` is given (get_kv_value(ns, key, default=None));
    every other error raises."""
    res = get_store_value(namespace, key)
    if default is not _REQUIRED and _is_key_not_found(res):
        return default
    return res.raise_for_status().json()["value"]


def put_rollout_order(order):
    """Override this job's rollout order for the coming deploy (pre_deploy or cli only).
    `order` is a list of worker IPs (or an already comma-separated string)."""
    value = order if isinstance(order, str) else ",".join(order)
    return api_put_kv(namespace=_job_namespace("job_meta"), key=ROLLOUT_ORDER_KEY, value=value)


def get_rollout_order():
    """GET this job's rollout_order key; returns the Response, as the original did."""
    return get_store_value(_job_namespace("job_meta"), ROLLOUT_ORDER_KEY)


def rollout_order():
    """The rollout order stored for this job, as a list of IPs ([] when none is set)."""
    value = get_kv_value(_job_namespace("job_meta"), ROLLOUT_ORDER_KEY, default=None)
    return [ip for ip in value.split(",") if ip] if value else []


def put_job_variable(key, value, ttl=0):
    return api_put_kv(namespace=_job_namespace("job_vars"), key=key, value=_as_value(value), ttl=ttl)


def put_job_secret(key, value, ttl=0):
    return api_put_secret(namespace=_job_namespace("job_secrets"), key=key, value=_as_value(value), ttl=ttl)


def delete_job_variable(key):
    return api_delete_kv(namespace=_job_namespace("job_vars"), key=key)


def delete_job_secret(key):
    return api_delete_secret(namespace=_job_namespace("job_secrets"), key=key)


def list_job_keys(namespace=None):
    """{"namespaces": {namespace: [keys]}}: vars/job/<job> or secrets/job/<job>; without
    `namespace`, both (key names only)."""
    return api_list_keys(namespace=namespace)


# Demands and semaphores

def list_hook_demands():
    return api_list_demands()


def acquire_semaphore(name, capacity=None, timeout_seconds=None):
    """Block until this allocation holds a slot. capacity None = the semaphore's existing capacity,
    else 1; timeout_seconds None = 600. Release it in a `finally:`."""
    return api_acquire_semaphore(name=name, capacity=capacity, timeout_seconds=timeout_seconds)


def release_semaphore(name):
    return api_release_semaphore(name=name)


def semaphore_status(name):
    return api_semaphore_status(name=name)
