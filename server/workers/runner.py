#!/usr/bin/env python3
# maand worker-side runner, installed by deploy as /opt/worker/<bucket_id>/bin/runner.py.
# Standard library only (Python >= 3.6).
#
#   python3 runner.py <bucket_id> <target> --jobs <job>[,<job>...] [--timeout SECONDS] [--json]
#   python3 runner.py <target> --jobs <job>        (bucket taken from where this file lives)
#
# Runs `make <target>` in /opt/worker/<bucket_id>/jobs/<job> for each job in turn, with
# CURRENT_VERSION and NEW_VERSION from jobs.json in the environment (a value already in the
# environment wins), each under a timeout. Reports per job the exit code, whether it timed out
# and the last output lines: JSON on stdout with --json (make's output then goes to stderr as it
# happens), human lines otherwise. Exit status 0 when every job succeeded, 1 when any failed,
# 2 for bad usage.
import argparse
import collections
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time

TAIL_LINES = 20
# Between SIGTERM and SIGKILL of a target's process group; below maand's remote kill grace, so
# the runner finishes its own cleanup (and its report) first.
KILL_GRACE_SECONDS = 5.0
# After make exits, how long to wait for output still buffered in the pipe. A target that starts
# a daemon without redirecting its output leaves the pipe open forever.
DRAIN_SECONDS = 1.0
MAKEFILES = ("GNUmakefile", "makefile", "Makefile")
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
# Never an option (-f...) or a variable assignment (X=1) once handed to make.
TARGET = re.compile(r"^[A-Za-z0-9_.@+/][A-Za-z0-9_.@+/-]*$")


def bucket_dir_of_this_file():
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def parse_args(argv):
    p = argparse.ArgumentParser(prog="runner.py", description="Run a Makefile target of maand jobs on this worker.",
                                usage="%(prog)s [bucket_id] target --jobs JOB[,JOB...] [--timeout SECONDS] [--json]")
    p.add_argument("positional", nargs="+", metavar="[bucket_id] target")
    p.add_argument("--jobs", required=True, help="comma-separated job names")
    p.add_argument("--timeout", type=float, default=None, help="seconds per job (default: none)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    args = p.parse_args(argv)
    if len(args.positional) > 2:
        p.error("expected [bucket_id] target, got %s" % " ".join(args.positional))
    args.bucket_id, args.target = (args.positional if len(args.positional) == 2 else [None, args.positional[0]])
    if not TARGET.match(args.target):
        p.error("target %r: expected letters, digits, _ . @ + / - (not starting with -)" % args.target)
    args.jobs = [j for j in args.jobs.split(",") if j]
    if not args.jobs:
        p.error("--jobs needs at least one job name")
    if args.timeout is not None and args.timeout <= 0:
        p.error("--timeout must be positive")
    return args


class Current:
    """The target's process group while it runs, so a signal to the runner reaches it too."""

    def __init__(self):
        self.proc = None
        self.stopping = None


def stop_group(proc, sig):
    try:
        os.killpg(proc.pid, sig)
    except OSError:
        pass


def terminate(proc):
    stop_group(proc, signal.SIGTERM)
    deadline = time.time() + KILL_GRACE_SECONDS
    while proc.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    stop_group(proc, signal.SIGKILL)
    proc.wait()


def read_versions(bucket_dir, job):
    try:
        with open(os.path.join(bucket_dir, "jobs.json"), "rb") as f:
            entry = json.loads(f.read().decode("utf-8")).get(job) or {}
    except (OSError, ValueError, AttributeError):
        entry = {}
    out = {}
    for key, name in (("current_version", "CURRENT_VERSION"), ("new_version", "NEW_VERSION")):
        value = os.environ.get(name)
        if value is None:
            value = entry.get(key)
        out[name] = "" if value is None else str(value)
    return out


def run_job(bucket_id, bucket_dir, job, target, timeout, live, current):
    started = time.time()
    result = {"job": job, "target": target, "exit_code": None, "timed_out": False, "error": None, "tail": [], "duration_ms": 0}
    job_dir = os.path.join(bucket_dir, "jobs", job)
    if "/" in job or job in ("", ".", ".."):
        result["error"] = "invalid job name %r" % job
        return result
    if not os.path.isdir(job_dir):
        result["error"] = "job %s is not on this worker (no directory %s); deploy it first" % (job, job_dir)
        return result
    if not any(os.path.isfile(os.path.join(job_dir, m)) for m in MAKEFILES):
        result["error"] = "job %s has no Makefile in %s" % (job, job_dir)
        return result
    env = dict(os.environ)
    env.update(read_versions(bucket_dir, job))
    env.update({"JOB": job, "BUCKET_ID": bucket_id, "TARGET": target})
    tail = collections.deque(maxlen=TAIL_LINES)
    proc = subprocess.Popen(["make", "--no-print-directory", target], cwd=job_dir, env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    current.proc = proc

    def pump():
        for raw in iter(proc.stdout.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            tail.append(line)
            live.write("%s\n" % line)
            live.flush()

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    deadline = None if timeout is None else started + timeout
    while True:
        try:
            proc.wait(timeout=0.1)
            break
        except subprocess.TimeoutExpired:
            if current.stopping is not None:
                terminate(proc)
                break
            if deadline is not None and time.time() >= deadline:
                result["timed_out"] = True
                terminate(proc)
                break
    current.proc = None
    reader.join(DRAIN_SECONDS)
    result["exit_code"] = proc.returncode
    result["tail"] = list(tail)
    result["duration_ms"] = int((time.time() - started) * 1000)
    if current.stopping is not None:
        result["error"] = "runner stopped by signal %d" % current.stopping
    elif result["timed_out"]:
        result["error"] = "make %s timed out after %gs" % (target, timeout)
    elif proc.returncode != 0:
        missing = re.compile(r"No rule to make target [`']%s'" % re.escape(target))
        if proc.returncode == 2 and any(missing.search(l) for l in tail):
            result["error"] = "job %s's Makefile has no target %s" % (job, target)
        else:
            result["error"] = "make %s exited with %d" % (target, proc.returncode)
    return result


def main(argv):
    args = parse_args(argv)
    bucket_dir = bucket_dir_of_this_file()
    bucket_id = os.path.basename(bucket_dir)
    if args.bucket_id is not None and args.bucket_id != bucket_id:
        sys.stderr.write("runner.py: this runner belongs to bucket %s (%s), not %s\n" % (bucket_id, bucket_dir, args.bucket_id))
        return EXIT_USAGE
    current = Current()

    def on_signal(signum, _frame):
        # The target runs in its own session, so a signal to the runner's group misses it: the
        # wait loop in run_job sees this and stops the target's group; the runner then reports.
        current.stopping = signum

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, on_signal)
    live = sys.stderr if args.json else sys.stdout
    results = []
    for job in args.jobs:
        if current.stopping is not None:
            break
        results.append(run_job(bucket_id, bucket_dir, job, args.target, args.timeout, live, current))
    ok = current.stopping is None and all(r["error"] is None for r in results)
    if args.json:
        sys.stdout.write(json.dumps({"bucket_id": bucket_id, "target": args.target, "ok": ok, "jobs": results}) + "\n")
    else:
        for r in results:
            status = "ok" if r["error"] is None else "FAILED: %s" % r["error"]
            sys.stdout.write("%s %s: %s\n" % (r["job"], args.target, status))
            if r["error"] is not None:
                for line in r["tail"]:
                    sys.stdout.write("  | %s\n" % line)
    sys.stdout.flush()
    return EXIT_OK if ok else EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
