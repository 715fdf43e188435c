# maand hook SDK, Python SSH helpers: hand-written in codegen/templates/python/ssh.py.
# Hooks run on the CLI host; these reach a worker the way deploy does, through the `ssh` binary
# with the bucket's key, so a hook can run runner.py or Makefile targets on its allocation.
import os
import pathlib
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
# The worker layout deploy uses (server/workers/layout.ts): {bucket_id} and {job} are filled in.
RUNNER_PATH = ""  # codegen:value
JOB_DIR = ""  # codegen:value
KNOWN_HOSTS_FILE = ""  # codegen:value
# The original's defaults: a remote command gets 300 s, a connection 15 s.
DEFAULT_COMMAND_TIMEOUT = 300
DEFAULT_CONNECT_TIMEOUT = 15

# What the remote side must never be asked: a password (hooks run unattended) or a host key
# confirmation on a terminal nobody watches. Host keys go to the bucket's known_hosts, the file
# deploy records them in, so a key deploy refused is refused here too.
SSH_OPTIONS = ("-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=accept-new")


class MaandSSHError(Exception):
    """maand.conf could not be read, or the hook context lacks what an SSH helper needs."""


class MaandSSHFileNotFound(MaandSSHError, FileNotFoundError):
    """No bucket (maand.conf) to read the SSH settings from; a FileNotFoundError, as the original raised."""


class SshConfig(namedtuple("SshConfig", ["user", "key_path", "use_sudo"])):
    """(user, key_path, use_sudo) as the original's load_ssh() returned, plus `.port` and
    `.bucket_root`."""

    def __new__(cls, user, key_path, use_sudo, port=22, bucket_root=None):
        self = super(SshConfig, cls).__new__(cls, user, key_path, use_sudo)
        self.port = port
        self.bucket_root = bucket_root
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


def find_bucket_root():
    """The bucket root (the directory holding maand.conf): BUCKET_ROOT when maand set it, else the
    nearest such directory above the working directory or this file, as the original searched.
    Raises FileNotFoundError when there is none."""
    env = os.environ.get(ENV["bucket_root"])
    if env and os.path.isfile(os.path.join(env, "maand.conf")):
        return pathlib.Path(env)
    for start in (pathlib.Path.cwd().resolve(), pathlib.Path(__file__).resolve().parent):
        for directory in [start] + list(start.parents):
            if (directory / "maand.conf").is_file():
                return directory
    raise MaandSSHFileNotFound("maand.conf not found: %s is not set and no directory above %s holds one"
                               % (ENV["bucket_root"], os.getcwd()))


def load_ssh(bucket_root=None):
    """SSH settings from maand.conf: unpacks as (user, key_path, use_sudo), as the original's;
    `.port` too. The key is <bucket>/secrets/<ssh_key> (the original also looked in the bucket
    root)."""
    if bucket_root is None:
        if not os.environ.get(ENV["bucket_root"]):
            try:
                bucket_root = find_bucket_root()
            except FileNotFoundError:
                raise MaandSSHFileNotFound("%s is not set and no maand.conf was found above %s: run this inside a "
                                           "maand hook or pass bucket_root=" % (ENV["bucket_root"], os.getcwd()))
        else:
            bucket_root = os.environ[ENV["bucket_root"]]
    root = str(bucket_root)
    path = os.path.join(root, "maand.conf")
    try:
        with open(path, encoding="utf-8") as f:
            conf = parse_toml(f.read())
    except (OSError, ValueError) as e:
        raise MaandSSHError("cannot read %s: %s" % (path, e))
    merged = dict(SSH_DEFAULTS)
    merged.update({k: v for k, v in conf.items() if k in SSH_DEFAULTS})
    key_path = os.path.join(root, "secrets", merged["ssh_key"])
    if not os.path.isfile(key_path) and os.path.isfile(os.path.join(root, merged["ssh_key"])):
        key_path = os.path.join(root, merged["ssh_key"])
    return SshConfig(merged["ssh_user"], key_path, bool(merged["use_sudo"]), int(merged["ssh_port"]), root)


def ssh_command(worker_ip, remote_cmd, conf, sudo=False, options=(), timeout=None, connect_timeout=DEFAULT_CONNECT_TIMEOUT):
    """The argv that runs `remote_cmd` (a string for the remote shell, or a list to quote) on
    `worker_ip`, under `timeout <seconds>` on the worker when `timeout` is set; with sudo,
    through `sudo -n` so it fails instead of prompting. The command runs in `sh -c`, so pipes
    and && stay on the remote side and inside the timeout."""
    command = remote_cmd if isinstance(remote_cmd, str) else " ".join(shlex.quote(a) for a in remote_cmd)
    prefix = []
    if sudo:
        prefix.append("sudo -n")
    if timeout is not None:
        prefix.append("timeout %d" % int(timeout))
    if prefix:
        command = " ".join(prefix) + " sh -c " + shlex.quote(command)
    known_hosts = os.path.join(conf.bucket_root, "secrets", KNOWN_HOSTS_FILE) if conf.bucket_root else None
    host_options = ("-o", "UserKnownHostsFile=" + known_hosts) if known_hosts else ()
    return ["ssh", "-i", str(conf.key_path), "-p", str(conf.port), "-o", "ConnectTimeout=%d" % int(connect_timeout)] + \
        list(SSH_OPTIONS) + list(host_options) + list(options) + ["--", "%s@%s" % (conf.user, worker_ip), command]


def run_ssh(worker_ip, remote_cmd, *, timeout=DEFAULT_COMMAND_TIMEOUT, check=True, connect_timeout=DEFAULT_CONNECT_TIMEOUT,
            sudo=None, capture_output=True, input=None, conf=None, options=()):
    """Run a command on a worker with the bucket's SSH settings, as the original did: output
    captured (text), `use_sudo` from maand.conf (sudo= overrides it), the command wrapped in
    `timeout <timeout>` on the worker (None: no limit), and check=True raising
    subprocess.CalledProcessError on a non-zero exit. Returns subprocess.CompletedProcess."""
    conf = conf or load_ssh()
    sudo = conf.use_sudo if sudo is None else sudo
    argv = ssh_command(worker_ip, remote_cmd, conf, sudo=sudo, options=options, timeout=timeout, connect_timeout=connect_timeout)
    local_timeout = None if timeout is None else timeout + connect_timeout + 30
    return subprocess.run(argv, check=check, capture_output=capture_output, timeout=local_timeout,
                          input=input, text=True, stdin=None if input is not None else subprocess.DEVNULL)


def _target_context(worker_ip, job, bucket_id):
    worker_ip = worker_ip or allocation_ip()
    job = job or job_name()
    if not worker_ip or not job:
        raise MaandSSHError("%s and %s are not set: run this inside a maand hook or pass worker_ip= and job="
                            % (ENV["allocation_ip"], ENV["job"]))
    if not bucket_id:
        bucket_id = get_kv_value(NAMESPACES["bucket_meta"], BUCKET_ID_KEY, default=None)
        if not bucket_id:
            raise MaandSSHError("the bucket id is not in KV (%s %s); run maand build first" % (NAMESPACES["bucket_meta"], BUCKET_ID_KEY))
    return worker_ip, job, bucket_id


def runner_command(target, job, bucket_id):
    """runner.py <bucket_id> <target> --jobs <job>: the worker-side runner's command line."""
    return ["python3", RUNNER_PATH.replace("{bucket_id}", bucket_id), bucket_id, target, "--jobs", job]


def make_command(target, job, bucket_id):
    return ["make", "-C", JOB_DIR.replace("{bucket_id}", bucket_id).replace("{job}", job), target]


def run_runner_target(target, *, worker_ip=None, job=None, timeout=DEFAULT_COMMAND_TIMEOUT, bucket_id=None, conf=None, **kwargs):
    """runner.py <bucket_id> <target> --jobs <job> on the worker, as deploy runs it (this
    allocation's worker and job unless given). Keyword arguments as for run_ssh."""
    worker_ip, job, bucket_id = _target_context(worker_ip, job, bucket_id)
    return run_ssh(worker_ip, runner_command(target, job, bucket_id), timeout=timeout, conf=conf, **kwargs)


def run_make_target(target, *, worker_ip=None, job=None, timeout=DEFAULT_COMMAND_TIMEOUT, bucket_id=None, conf=None, **kwargs):
    """make -C /opt/worker/<bucket>/jobs/<job> <target> on the worker. Keyword arguments as for run_ssh."""
    worker_ip, job, bucket_id = _target_context(worker_ip, job, bucket_id)
    return run_ssh(worker_ip, make_command(target, job, bucket_id), timeout=timeout, conf=conf, **kwargs)
