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
#
# Start-up cost: this runs for every target of every deploy, so the normal path imports only
# modules built into the interpreter (plus os): no argparse, subprocess, threading, signal, json,
# re or collections, which together cost more than the interpreter's own start. argparse (bad or
# unusual command lines, --help), json (jobs.json, read only when the environment lacks a
# version) and re (the "no rule to make target" check) are imported where they are needed.
import codecs
import os
import select
import sys
import time
from _signal import SIG_DFL, SIGHUP, SIGINT, SIGKILL, SIGPIPE, SIGTERM, SIGXFSZ, signal as set_handler

TAIL_LINES = 20
# Between SIGTERM and SIGKILL of a target's process group; below maand's remote kill grace, so
# the runner finishes its own cleanup (and its report) first.
KILL_GRACE_SECONDS = 5.0
# After make exits, how long to wait for output still buffered in the pipe. A target that starts
# a daemon without redirecting its output leaves the pipe open forever.
DRAIN_SECONDS = 1.0
# How often the wait loop looks at the target, the deadline and a stop signal.
POLL_SECONDS = 0.05
MAKEFILES = ("GNUmakefile", "makefile", "Makefile")
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
# Never an option (-f...) or a variable assignment (X=1) once handed to make.
TARGET = r"^[A-Za-z0-9_.@+/][A-Za-z0-9_.@+/-]*$"
TARGET_FIRST = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.@+/"
TARGET_REST = TARGET_FIRST + "-"


def bucket_dir_of_this_file():
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Args:
    def __init__(self, bucket_id, target, jobs, timeout, json):
        self.bucket_id, self.target, self.jobs, self.timeout, self.json = bucket_id, target, jobs, timeout, json


def fast_args(argv):
    """The canonical command line (runnerCommand's, in any order), parsed without argparse.

    None when it is anything else (--help, --jobs=x, an abbreviation, a repeated option, a value
    starting with -, an error...): parse_args then decides, so messages stay argparse's. Whatever
    this accepts, parse_args accepts with the same values."""
    positional, options, ended, i = [], {}, False, 0
    while i < len(argv):
        a = argv[i]
        if a[:1] == "-":
            if a in options:
                return None
            if a == "--json":
                options[a] = True
            elif a in ("--jobs", "--timeout") and i + 1 < len(argv) and argv[i + 1][:1] != "-":
                i += 1
                options[a] = argv[i]
            else:
                return None
            ended = ended or bool(positional)
        elif ended:
            return None  # a second run of positionals: argparse's "unrecognized arguments"
        else:
            positional.append(a)
        i += 1
    if "--jobs" not in options or not 1 <= len(positional) <= 2:
        return None
    target = positional[-1]
    if not target or target[0] not in TARGET_FIRST or target.strip(TARGET_REST):
        return None
    jobs = [j for j in options["--jobs"].split(",") if j]
    timeout = options.get("--timeout")
    if timeout is not None:
        try:
            timeout = float(timeout)  # what argparse's type=float does
        except ValueError:
            return None
        if timeout <= 0:
            return None
    if not jobs:
        return None
    return Args(positional[0] if len(positional) == 2 else None, target, jobs, timeout, "--json" in options)


def parse_args(argv):
    import argparse
    import re
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
    if not re.match(TARGET, args.target):
        p.error("target %r: expected letters, digits, _ . @ + / - (not starting with -)" % args.target)
    args.jobs = [j for j in args.jobs.split(",") if j]
    if not args.jobs:
        p.error("--jobs needs at least one job name")
    if args.timeout is not None and args.timeout <= 0:
        p.error("--timeout must be positive")
    return args


def args_of(argv):
    return fast_args(argv) or parse_args(argv)


# json.dumps's encoding (ensure_ascii, ", " and ": " separators) of the report's types.
JSON_ESCAPES = dict((i, "\\u%04x" % i) for i in range(0x20))
JSON_ESCAPES.update({0x22: '\\"', 0x5c: "\\\\", 0x0a: "\\n", 0x0d: "\\r", 0x09: "\\t", 0x08: "\\b", 0x0c: "\\f", 0x7f: "\\u007f"})


def json_escape_non_ascii(e):
    out = []
    for c in e.object[e.start:e.end]:
        n = ord(c)
        if n > 0xFFFF:
            n -= 0x10000
            out.append("\\u%04x\\u%04x" % (0xD800 | (n >> 10), 0xDC00 | (n & 0x3FF)))
        else:
            out.append("\\u%04x" % n)
    return "".join(out), e.end


codecs.register_error("maand-runner-json", json_escape_non_ascii)


def to_json(v):
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    t = type(v)
    if t is str:
        return '"%s"' % v.translate(JSON_ESCAPES).encode("ascii", "maand-runner-json").decode("ascii")
    if t is int:
        return int.__repr__(v)
    if t is list:
        return "[%s]" % ", ".join([to_json(x) for x in v])
    if t is dict and all(type(k) is str for k in v):
        return "{%s}" % ", ".join(["%s: %s" % (to_json(k), to_json(x)) for k, x in v.items()])
    import json
    return json.dumps(v)


class Current:
    """The target's process group while it runs, so a signal to the runner reaches it too."""

    def __init__(self):
        self.proc = None
        self.stopping = None


def stop_group(pid, sig):
    try:
        os.killpg(pid, sig)
    except OSError:
        pass


def read_versions(bucket_dir, job):
    entry = None
    out = {}
    for key, name in (("current_version", "CURRENT_VERSION"), ("new_version", "NEW_VERSION")):
        value = os.environ.get(name)
        if value is None:
            if entry is None:
                entry = read_jobs_json(bucket_dir, job)
            value = entry.get(key)
        out[name] = "" if value is None else str(value)
    return out


def read_jobs_json(bucket_dir, job):
    import json
    try:
        with open(os.path.join(bucket_dir, "jobs.json"), "rb") as f:
            return json.loads(f.read().decode("utf-8")).get(job) or {}
    except (OSError, ValueError, AttributeError):
        return {}


def spawn(argv, cwd, env, out):
    """subprocess.Popen(argv, cwd=cwd, env=env, stdin=DEVNULL, stdout=out, stderr=STDOUT,
    start_new_session=True) without importing subprocess: the pid, or the same OSError."""
    devnull = os.open(os.devnull, os.O_RDWR)
    err_r, err_w = os.pipe()  # close-on-exec: EOF once make runs, the errno if it could not
    try:
        pid = os.fork()
        if pid == 0:  # the child: nothing here may return or raise
            step = "noexec"
            try:
                os.dup2(devnull, 0)
                os.dup2(out, 1)
                os.dup2(out, 2)
                try:
                    fds = [int(fd) for fd in os.listdir("/proc/self/fd")]
                except OSError:
                    fds = range(3, os.sysconf("SC_OPEN_MAX"))
                for fd in fds:
                    if fd > 2 and fd != err_w:
                        try:
                            os.close(fd)
                        except OSError:
                            pass
                step = "noexec:chdir"
                os.chdir(cwd)
                step = "noexec"
                set_handler(SIGPIPE, SIG_DFL)
                set_handler(SIGXFSZ, SIG_DFL)
                os.setsid()
                error = None
                for d in (env.get("PATH") or os.defpath).split(os.pathsep):
                    try:
                        os.execve(os.path.join(d, argv[0]), argv, env)
                    except OSError as e:
                        if error is None or error.errno in (2, 20):  # the first other error, or the last ENOENT/ENOTDIR
                            error = e
                raise error
            except BaseException as e:
                try:
                    os.write(err_w, ("%s:%d" % (step, getattr(e, "errno", None) or 0)).encode("ascii"))
                finally:
                    os._exit(255)
        os.close(err_w)
        err_w = None
        report = b""
        while True:
            chunk = os.read(err_r, 100)
            if not chunk:
                break
            report += chunk
    finally:
        os.close(devnull)
        os.close(err_r)
        if err_w is not None:
            os.close(err_w)
    if report:
        os.waitpid(pid, 0)
        step, errno = report.decode("ascii").rsplit(":", 1)
        errno = int(errno)
        raise OSError(errno, os.strerror(errno), cwd if step == "noexec:chdir" else argv[0])
    return pid


def exit_code_of(status):
    """subprocess's returncode: the exit status, or minus the signal that killed it."""
    return -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)


class Output:
    """One target's merged stdout and stderr: lines into its tail and to the live stream."""

    def __init__(self, fd, live):
        self.fd, self.live, self.pending, self.tail, self.reading = fd, live, [], [], True

    def read(self):
        data = os.read(self.fd, 65536)
        if not data:
            self.reading = False
            os.close(self.fd)
            if self.pending:
                self.line(b"".join(self.pending))
        elif b"\n" not in data:
            self.pending.append(data)
        else:
            self.pending.append(data)
            lines = b"".join(self.pending).split(b"\n")
            last = lines.pop()
            self.pending = [last] if last else []
            for raw in lines:
                if not self.line(raw):
                    break

    def line(self, raw):
        line = raw.decode("utf-8", "replace").rstrip("\r\n")
        self.tail.append(line)
        if len(self.tail) > TAIL_LINES:
            del self.tail[0]
        try:
            self.live.write("%s\n" % line)
            self.live.flush()
            return True
        except Exception:
            # As when this was a reader thread: it dies (with its traceback) and reads no more.
            self.reading = False
            try:
                import traceback
                traceback.print_exc()
            except Exception:
                pass
            return False


def wait_for_output(outputs, seconds):
    """Reads whatever the targets' pipes have within seconds; whether there was any."""
    poller = select.poll()
    by_fd = {}
    for o in outputs:
        if o.reading:
            by_fd[o.fd] = o
            poller.register(o.fd, select.POLLIN)
    if not by_fd:
        time.sleep(max(seconds, 0))
        return False
    ready = poller.poll(max(int(seconds * 1000 + 0.999), 0))
    for fd, _ in ready:
        o = by_fd[fd]
        if o.reading:
            o.read()
    return bool(ready)


# Earlier targets' pipes that a daemon of theirs still holds: still echoed live, as they were by
# the reader thread this loop replaces, until the runner exits.
orphans = []


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
    r, w = os.pipe()
    try:
        pid = spawn(["make", "--no-print-directory", target], job_dir, env, w)
    except BaseException:
        os.close(r)
        raise
    finally:
        os.close(w)
    current.proc = pid
    output = Output(r, live)
    deadline = None if timeout is None else started + timeout
    status = None
    kill_at = None  # SIGTERM sent: SIGKILL at this time, or once make is gone
    drain_until = None
    idle = 0.00025
    while True:
        if status is None:
            done, st = os.waitpid(pid, os.WNOHANG)
            if done:
                status = st
        now = time.time()
        if status is None and kill_at is None:
            if current.stopping is None and deadline is not None and now >= deadline:
                result["timed_out"] = True
            if current.stopping is not None or result["timed_out"]:
                stop_group(pid, SIGTERM)
                kill_at = now + KILL_GRACE_SECONDS
        if kill_at is not None and (status is not None or now >= kill_at):
            stop_group(pid, SIGKILL)  # what is left of the group, even when make itself is gone
            if status is None:
                status = os.waitpid(pid, 0)[1]
            kill_at = None
            now = time.time()
        if status is not None:
            if drain_until is None:
                current.proc = None
                drain_until = now + DRAIN_SECONDS
            if not output.reading or now >= drain_until:
                break
            wait = drain_until - now
        else:
            # As subprocess's wait does: look again soon, then less often (an exit seldom closes
            # the pipe late, unless a daemon holds it; a stop signal waits for the next look).
            wait = idle = min(idle * 2, POLL_SECONDS)
        for limit in (deadline if kill_at is None and status is None else None, kill_at):
            if limit is not None:
                wait = min(wait, limit - now)
        if wait_for_output([output] + orphans, min(wait, POLL_SECONDS)):
            idle = 0.00025
        orphans[:] = [o for o in orphans if o.reading]
    if output.reading:
        orphans.append(output)
    code = exit_code_of(status)
    result["exit_code"] = code
    result["tail"] = list(output.tail)
    result["duration_ms"] = int((time.time() - started) * 1000)
    if current.stopping is not None:
        result["error"] = "runner stopped by signal %d" % current.stopping
    elif result["timed_out"]:
        result["error"] = "make %s timed out after %gs" % (target, timeout)
    elif code != 0:
        if code == 2 and any(missing_rule(target, l) for l in output.tail):
            result["error"] = "job %s's Makefile has no target %s" % (job, target)
        else:
            result["error"] = "make %s exited with %d" % (target, code)
    return result


def missing_rule(target, line):
    import re
    return re.search(r"No rule to make target [`']%s'" % re.escape(target), line) is not None


def main(argv):
    args = args_of(argv)
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

    for sig in (SIGTERM, SIGINT, SIGHUP):
        set_handler(sig, on_signal)
    live = sys.stderr if args.json else sys.stdout
    results = []
    for job in args.jobs:
        if current.stopping is not None:
            break
        results.append(run_job(bucket_id, bucket_dir, job, args.target, args.timeout, live, current))
    ok = current.stopping is None and all(r["error"] is None for r in results)
    if args.json:
        sys.stdout.write(to_json({"bucket_id": bucket_id, "target": args.target, "ok": ok, "jobs": results}) + "\n")
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
