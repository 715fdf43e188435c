"""A pre-deploy check that fails on one worker on purpose, to show what a failed run looks like:
the batches after the failure do not start, nothing the run wrote to KV is kept, and the report
names the worker with its exit code and last output lines."""
import sys

from maand import allocation_ip, put_job_variable

usage = {"127.0.0.13": 97}.get(allocation_ip(), 41)
print(f"disk usage on {allocation_ip()}: {usage}%")
put_job_variable(f"checked_{allocation_ip()}", str(usage)).raise_for_status()
if usage > 90:
    print(f"disk almost full on {allocation_ip()}: free some space before deploying", file=sys.stderr)
    sys.exit(3)
