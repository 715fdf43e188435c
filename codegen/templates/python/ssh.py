# maand hook SDK, Python SSH helpers: hand-written in codegen/templates/python/ssh.py.
# Hooks run on the CLI host; these reach a worker the way deploy does, through the `ssh` binary
# with the bucket's key, so a hook can run runner.py or Makefile targets on its allocation.
import os
import shlex
import subprocess
from collections import namedtuple

from maand import get_kv_value  # codegen:strip
from runtime import allocation_ip, job_name  # codegen:strip

try:
    import tomllib as _tomllib  # Python >= 3.11
except ImportError:  # pragma: no cover - exercised by the python3.9 test run
    _tomllib = None

ENV = {}  # codegen:value
NAMESPACES = {}  # codegen:value
BUCKET_ID_KEY = ""  # codegen:value
SSH_DEFAULTS = {}  # codegen:value
WORKER_ROOT = ""  # codegen:value

# What the remote side must never be asked: a password (hooks run unattended) or a host key
# confirmation on a terminal nobody watches.
SSH_OPTIONS = ("-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=accept-new", "-o", "ConnectTimeout=10")


class MaandSSHError(Exception):
    """maand.conf could not be read, or the hook context lacks what an SSH helper needs."""


class SshConfig(namedtuple("SshConfig", ["user", "key_path", "use_sudo"])):
    """(user, key_path, use_sudo) as the note documents, plus `.port`."""

    def __new__(cls, user, key_path, use_sudo, port=22):
        self = super(SshConfig, cls).__new__(cls, user, key_path, use_sudo)
        self.port = port
        return self


def _toml_string(raw, lineno):
    if raw.startswith("'"):
        end = raw.find("'", 1)
        if end < 0:
            raise ValueError("line %d: unterminated string" % lineno)
        return raw[1:end], raw[end + 1:]
    out, i = [], 1
    escapes = {"b": "\b", "t": "\t", "n": "\n", "f": "\f", "r": "\r", '"': '"', "\\": "\\"}
    while i < len(raw):
        c = raw[i]
        if c == '"':
            return "".join(out), raw[i + 1:]
        if c == "\\":
            e = raw[i + 1:i + 2]
            if e in escapes:
                out.append(escapes[e])
                i += 2
                continue
            if e in ("u", "U"):
                n = 4 if e == "u" else 8
                out.append(chr(int(raw[i + 2:i + 2 + n], 16)))
                i += 2 + n
                continue
            raise ValueError("line %d: bad escape \\%s" % (lineno, e))
        out.append(c)
        i += 1
    raise ValueError("line %d: unterminated string" % lineno)


def parse_toml(text):
    """The TOML maand.conf uses: top-level `key = value` with strings, integers, floats and
    booleans, and comments. tomllib only exists from Python 3.11; hooks may run on 3.9."""
    if _tomllib is not None:
        return _tomllib.loads(text)
    return parse_toml_minimal(text)


def _toml_scalar(raw, lineno):
    if raw in ("true", "false"):
        return raw == "true"
    digits = raw.replace("_", "")
    try:
        return int(digits, 0) if digits[:2] in ("0x", "0o", "0b") else int(digits, 10)
    except ValueError:
        pass
    try:
        return float(digits)
    except ValueError:
        raise ValueError("line %d: unsupported value %r" % (lineno, raw))


def parse_toml_minimal(text):
    result = {}
    for lineno, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("["):
            raise ValueError("line %d: tables are not supported in maand.conf" % lineno)
        key, sep, raw = stripped.partition("=")
        key, raw = key.strip().strip('"'), raw.strip()
        if not sep or not key:
            raise ValueError("line %d: expected key = value" % lineno)
        if raw.startswith(("'", '"')):
            value, rest = _toml_string(raw, lineno)
        else:
            value, _, _ = raw.partition("#")
            value, rest = _toml_scalar(value.strip(), lineno), ""
        rest = rest.strip()
        if rest and not rest.startswith("#"):
            raise ValueError("line %d: unexpected %r after the value" % (lineno, rest))
        result[key] = value
    return result


def load_ssh(bucket_root=None):
    """SSH settings from BUCKET_ROOT/maand.conf; the key is BUCKET_ROOT/secrets/<ssh_key>."""
    root = bucket_root or os.environ.get(ENV["bucket_root"])
    if not root:
        raise MaandSSHError("%s is not set: run this inside a maand hook or pass bucket_root=" % ENV["bucket_root"])
    path = os.path.join(root, "maand.conf")
    try:
        with open(path, encoding="utf-8") as f:
            conf = parse_toml(f.read())
    except (OSError, ValueError) as e:
        raise MaandSSHError("cannot read %s: %s" % (path, e))
    merged = dict(SSH_DEFAULTS)
    merged.update({k: v for k, v in conf.items() if k in SSH_DEFAULTS})
    key_path = os.path.join(root, "secrets", merged["ssh_key"])
    return SshConfig(merged["ssh_user"], key_path, bool(merged["use_sudo"]), int(merged["ssh_port"]))


def ssh_command(worker_ip, remote_cmd, conf, sudo=False, options=()):
    """The argv that runs `remote_cmd` (a string for the remote shell, or a list to quote) on
    `worker_ip`; with sudo, through `sudo -n sh -c` so pipes and && stay on the remote side."""
    command = remote_cmd if isinstance(remote_cmd, str) else " ".join(shlex.quote(a) for a in remote_cmd)
    if sudo:
        command = "sudo -n sh -c " + shlex.quote(command)
    return ["ssh", "-i", conf.key_path, "-p", str(conf.port)] + list(SSH_OPTIONS) + list(options) + [
        "--", "%s@%s" % (conf.user, worker_ip), command]


def run_ssh(worker_ip, remote_cmd, sudo=False, check=False, capture_output=False, timeout=None,
            input=None, conf=None, options=()):
    """Run a command on a worker; returns subprocess.CompletedProcess (text mode). check=True
    raises subprocess.CalledProcessError on a non-zero exit, like subprocess.run."""
    conf = conf or load_ssh()
    argv = ssh_command(worker_ip, remote_cmd, conf, sudo=sudo, options=options)
    return subprocess.run(argv, check=check, capture_output=capture_output, timeout=timeout,
                          input=input, text=True, stdin=None if input is not None else subprocess.DEVNULL)


def _target_context(worker_ip, job, bucket_id):
    worker_ip = worker_ip or allocation_ip()
    job = job or job_name()
    if not worker_ip or not job:
        raise MaandSSHError("%s and %s are not set: run this inside a maand hook or pass worker_ip= and job="
                            % (ENV["allocation_ip"], ENV["job"]))
    if not bucket_id:
        bucket_id = get_kv_value(NAMESPACES["bucket_meta"], BUCKET_ID_KEY)
        if not bucket_id:
            raise MaandSSHError("the bucket id is not in KV (%s %s); run maand build first" % (NAMESPACES["bucket_meta"], BUCKET_ID_KEY))
    return worker_ip, job, "%s/%s" % (WORKER_ROOT, bucket_id)


def runner_command(target, job, worker_dir):
    return ["python3", "%s/bin/runner.py" % worker_dir, target, "--jobs", job]


def make_command(target, job, worker_dir):
    return ["make", "-C", "%s/jobs/%s" % (worker_dir, job), target]


def run_runner_target(target, worker_ip=None, job=None, bucket_id=None, conf=None, **kwargs):
    """runner.py <target> --jobs <job> on the worker, as deploy runs it (with sudo per maand.conf).
    Extra keyword arguments go to run_ssh."""
    conf = conf or load_ssh()
    worker_ip, job, worker_dir = _target_context(worker_ip, job, bucket_id)
    return run_ssh(worker_ip, runner_command(target, job, worker_dir), sudo=conf.use_sudo, conf=conf, **kwargs)


def run_make_target(target, worker_ip=None, job=None, bucket_id=None, conf=None, **kwargs):
    """make -C /opt/worker/<bucket>/jobs/<job> <target> on the worker (with sudo per maand.conf)."""
    conf = conf or load_ssh()
    worker_ip, job, worker_dir = _target_context(worker_ip, job, bucket_id)
    return run_ssh(worker_ip, make_command(target, job, worker_dir), sudo=conf.use_sudo, conf=conf, **kwargs)
