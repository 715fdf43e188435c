# maand hook SDK, Python helpers: the note's helper tables, hand-written (in
# codegen/templates/python/helpers.py) on top of the generated api_* functions, one per
# openapi.json operation. Lines marked "codegen:strip" exist only in the template, for editors.
import json

from maand import (  # codegen:strip
    api_acquire_semaphore, api_delete_kv, api_delete_secret, api_get_kv, api_list_demands,  # codegen:strip
    api_list_keys, api_put_kv, api_put_secret, api_release_semaphore, api_semaphore_status,  # codegen:strip
)  # codegen:strip
from runtime import MaandAPIError, job_name  # codegen:strip

ENV = {}  # codegen:value
NAMESPACES = {}  # codegen:value
ROLLOUT_ORDER_KEY = ""  # codegen:value
NOT_FOUND_STATUS = 0  # codegen:value


def _job_namespace(kind, job=None):
    job = job or job_name()
    if not job:
        raise MaandAPIError(None, "%s is not set: run this inside a maand hook" % ENV["job"])
    return NAMESPACES[kind].replace("{job}", job)


def _as_value(value):
    """KV values are strings; anything else is stored as its JSON text."""
    return value if isinstance(value, str) else json.dumps(value)


# KV

def get_store_value(namespace, key):
    """GET the key; returns the Response ({"namespace", "key", "value"} on 200)."""
    return api_get_kv(namespace=namespace, key=key)


def get_kv_value(namespace, key):
    """The plaintext value, or None when the key does not exist; other errors raise MaandAPIError.
    Values are strings: parse JSON yourself."""
    res = get_store_value(namespace, key)
    if res.status_code == NOT_FOUND_STATUS:
        return None
    return res.raise_for_status().json()["value"]


def put_rollout_order(order):
    """Override this job's rollout order for the coming deploy (pre_deploy or cli only).
    `order` is a list of worker IPs (or an already comma-separated string)."""
    value = order if isinstance(order, str) else ",".join(order)
    return api_put_kv(namespace=_job_namespace("job_meta"), key=ROLLOUT_ORDER_KEY, value=value)


def get_rollout_order():
    """The rollout order stored for this job, as a list of IPs ([] when none is set)."""
    value = get_kv_value(_job_namespace("job_meta"), ROLLOUT_ORDER_KEY)
    return [ip for ip in value.split(",") if ip] if value else []


def put_job_variable(key, value, ttl=0):
    return api_put_kv(namespace=_job_namespace("job_vars"), key=key, value=_as_value(value), ttl=ttl)


def put_job_secret(key, value, ttl=0):
    return api_put_secret(namespace=_job_namespace("job_secrets"), key=key, value=_as_value(value), ttl=ttl)


def delete_job_variable(key):
    return api_delete_kv(namespace=_job_namespace("job_vars"), key=key)


def delete_job_secret(key):
    return api_delete_secret(namespace=_job_namespace("job_secrets"), key=key)


def list_job_keys(ns=None):
    """{"namespaces": {namespace: [keys]}}; without `ns`, this job's vars and secrets (names only)."""
    return api_list_keys(namespace=ns)


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
