"""Runs once per database allocation: makes sure the schema and the admin secret exist, and
tells which downstream hooks depend on it (GET /demands)."""
import secrets

from maand import (allocation_ip, get_kv_value, is_one_shot, list_hook_demands,
                   put_job_secret, put_job_variable)

if is_one_shot():
    if get_kv_value("secrets/job/database", "admin_password", default=None) is None:
        put_job_secret("admin_password", secrets.token_urlsafe(18)).raise_for_status()
    put_job_variable("schema_version", "2.1.0").raise_for_status()
    for d in list_hook_demands().json():
        print(f"downstream {d['job']}/{d['hook']} wants {d['demand_config']}")
print(f"database on {allocation_ip()} ready")
