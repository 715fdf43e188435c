"""One migration at a time across the api allocations (a semaphore of capacity 1), using the
upstream database job's schema version and admin secret, readable because of the demand."""
import time

from maand import (acquire_semaphore, allocation_ip, get_kv_value, put_job_variable,
                   release_semaphore)

schema = get_kv_value("vars/job/database", "schema_version")
password = get_kv_value("secrets/job/database", "admin_password")
if schema is None or password is None:
    raise SystemExit("run 'maand hooks hook_schema database' first")

acquire_semaphore("migrate", capacity=1, timeout_seconds=60).raise_for_status()
try:
    start = time.time()
    time.sleep(0.2)  # the critical section: one allocation at a time
    put_job_variable(f"migrated_{allocation_ip()}", f"schema {schema} in {time.time() - start:.2f}s").raise_for_status()
finally:
    release_semaphore("migrate")
print(f"migrated {allocation_ip()} to schema {schema} (password of {len(password)} chars, not printed)")
