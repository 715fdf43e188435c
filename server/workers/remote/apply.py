# maand worker-side helper, sync round-trip 2: apply one worker's changes. Run by maand over SSH:
#   python3 -c "<this file>"  < control-line + tar stream
# stdin is one line of JSON (the control: what to write, chmod, delete per job, jobs to remove,
# layout files) followed by a tar of exactly the files to write. Every file is received into a
# staging directory and its sha256 checked before anything in a job directory changes; each is
# then put in place with a rename (never a partially written file at a job path). A job's
# protected directories (data/ logs/ bin/) are never written, deleted or listed. Prints one
# JSON object: {"ok": true, ...} or {"ok": false, "error": "..."} (exit 1).
#
# Start-up is part of every sync that sends something, on every worker at once: the normal path
# imports only os, stat, sys, errno and the C halves of json, signal and sha256 (json, signal and
# hashlib would pull in re, enum and OpenSSL, about 17 ms of a 30 ms start); the rest is imported
# where it is needed.
import errno
import os
import stat
import sys

try:
    import _json
    import _signal as signals
except ImportError:  # not CPython: the full modules
    _json = None
    import signal as signals
try:
    from _sha256 import sha256 as small_sha256
except ImportError:  # Python 3.12+
    try:
        from _sha2 import sha256 as small_sha256
    except ImportError:
        small_sha256 = None

COPY_CHUNK = 1 << 20
BLOCK = 512
ZERO_BLOCK = bytes(BLOCK)
STAGING_PREFIX = ".maand-staging-"


# Past this many received bytes files are hashed by OpenSSL (hashlib): the built-in sha256 starts
# faster but hashes about 6x slower.
SMALL_HASH_BYTES = 1 << 20


class Refused(Exception):
    pass


class JsonContext:
    """What json's C scanner reads from json.JSONDecoder: plain JSON, strict strings."""
    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int

    @staticmethod
    def parse_constant(name):
        raise ValueError("unexpected %s in JSON" % name)


def json_loads(text):
    if _json is None:
        import json
        return json.loads(text)
    text = text.strip()
    try:
        value, end = _json.make_scanner(JsonContext())(text, 0)
    except StopIteration as e:
        raise ValueError("invalid JSON at character %d" % e.value)
    if end != len(text):
        raise ValueError("extra data after JSON at character %d" % end)
    return value


def json_reject(o):
    raise TypeError("%s is not JSON serializable" % type(o).__name__)


def json_dumps(value, sort_keys=False):
    """json.dumps(value, sort_keys=sort_keys, separators=(",", ":")), by the C encoder json.dumps uses."""
    if _json is not None:
        try:
            encode = _json.make_encoder({}, json_reject, _json.encode_basestring_ascii, None, ":", ",", sort_keys, False, True)
            return "".join(encode(value, 0))
        except TypeError:  # another make_encoder signature
            pass
    import json
    return json.dumps(value, sort_keys=sort_keys, separators=(",", ":"))


def remove_flat_dir(path):
    """A staging directory: files only (receive names them by number)."""
    try:
        names = os.listdir(path)
    except FileNotFoundError:
        return
    for name in names:
        try:
            os.unlink(os.path.join(path, name))
        except OSError:
            pass
    try:
        os.rmdir(path)
    except OSError:
        import shutil
        shutil.rmtree(path, ignore_errors=True)


def check_rel(rel, protected=()):
    parts = rel.split("/")
    if not rel or rel.startswith("/") or "\0" in rel or any(p in ("", ".", "..") for p in parts):
        raise Refused("bad path %r" % rel)
    if parts[0] in protected:
        raise Refused("%r is inside the protected directory %s/" % (rel, parts[0]))
    return parts


def ensure_dir(base, parts):
    """base/parts[0]/.../parts[-1] as real directories (created 0755), refusing symlinks."""
    path = base
    for part in parts:
        path = os.path.join(path, part)
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            os.mkdir(path)
            os.chmod(path, 0o755)
            continue
        if stat.S_ISLNK(st.st_mode):
            raise Refused("%s is a symlink; refusing to write through it" % path)
        if not stat.S_ISDIR(st.st_mode):
            raise Refused("%s is a file where a directory is needed" % path)
    return path


def write_atomic(path, data, mode):
    tmp = "%s.maand-tmp-%d" % (path, os.getpid())
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)
    os.chmod(tmp, mode)
    os.rename(tmp, path)


def place(staged, target, mode):
    """Renames the staged file onto target; the mode is set first, so it is never visible wrong."""
    os.chmod(staged, mode)
    try:
        st = os.lstat(target)
        if stat.S_ISDIR(st.st_mode) and not stat.S_ISLNK(st.st_mode):
            os.rmdir(target)  # an emptied directory where a file now goes; a non-empty one raises
    except FileNotFoundError:
        pass
    try:
        os.rename(staged, target)
    except OSError as e:
        if e.errno != errno.EXDEV:
            raise
        # The job directory is on another filesystem than the staging area: copy beside, rename.
        import shutil
        tmp = "%s.maand-tmp-%d" % (target, os.getpid())
        shutil.copyfile(staged, tmp)
        os.chmod(tmp, mode)
        os.rename(tmp, target)
        os.unlink(staged)


def record(path, sha256):
    """A manifest entry: [sha256, mode, size, inode, mtime_ns, ctime_ns]. maand compares the last
    four with a `find -printf` listing to tell an intact file from one changed behind its back
    (ctime cannot be set back by a user). Big numbers are strings: JSON readers lose precision."""
    st = os.lstat(path)
    return [sha256, stat.S_IMODE(st.st_mode), st.st_size, str(st.st_ino), str(st.st_mtime_ns), str(st.st_ctime_ns)]


def read_json(path):
    try:
        with open(path, "rb") as f:
            return json_loads(f.read().decode("utf-8"))
    except (OSError, ValueError):
        return None


def read_exact(stream, n):
    data = stream.read(n)
    if len(data) != n:
        raise Refused("the archive was cut short (connection lost?)")
    return data


def tar_members(stream):
    """(name, size) of each member of the ustar/pax stream maand writes (see tar.ts); the caller
    reads exactly `size` bytes of content before asking for the next member."""
    pax = {}
    while True:
        header = read_exact(stream, BLOCK)
        if header == ZERO_BLOCK:
            return
        stored = int(header[148:156].split(b"\0", 1)[0].strip() or b"0", 8)
        if stored != sum(header[:148]) + 8 * 32 + sum(header[156:]):
            raise Refused("corrupt archive header")
        size = int(header[124:136].split(b"\0", 1)[0].strip() or b"0", 8)
        kind = header[156:157]
        if kind == b"x":
            for rec in read_exact(stream, size).decode("utf-8").split("\n"):
                if "=" in rec:
                    key, _, value = rec.partition(" ")[2].partition("=")
                    pax[key] = value
            skip_padding(stream, size)
            continue
        if kind not in (b"0", b"\0"):
            raise Refused("unexpected archive member type %r" % kind)
        name = header[0:100].split(b"\0", 1)[0].decode("utf-8")
        prefix = header[345:500].split(b"\0", 1)[0].decode("utf-8")
        name = pax.get("path", prefix + "/" + name if prefix else name)
        size = int(pax.get("size", size))
        pax = {}
        yield name, size
        skip_padding(stream, size)


def skip_padding(stream, size):
    if size % BLOCK:
        read_exact(stream, BLOCK - size % BLOCK)


def receive(stream, expected, staging):
    """Unpacks the tar into staging; returns {member name: staged path}, each hash verified."""
    staged = {}
    received = 0
    for n, (name, size) in enumerate(tar_members(stream)):
        if name not in expected or name in staged:
            raise Refused("unexpected archive member %r" % name)
        received += size
        if small_sha256 is not None and received <= SMALL_HASH_BYTES:
            digest = small_sha256()
        else:
            import hashlib
            digest = hashlib.sha256()
        path = os.path.join(staging, str(n))
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            left = size
            while left:
                chunk = read_exact(stream, min(left, COPY_CHUNK))
                digest.update(chunk)
                os.write(fd, chunk)
                left -= len(chunk)
        finally:
            os.close(fd)
        if digest.hexdigest() != expected[name]:
            raise Refused("%s arrived with sha256 %s, expected %s" % (name, digest.hexdigest(), expected[name]))
        staged[name] = path
    missing = sorted(set(expected) - set(staged))
    if missing:
        raise Refused("the archive ended without %s" % ", ".join(missing[:5]))
    return staged


def prune(job_dir, rel):
    parts = rel.split("/")[:-1]
    while parts:
        try:
            os.rmdir(os.path.join(job_dir, *parts))
        except OSError:
            return
        parts.pop()


def apply_job(ctl, job, change, staged):
    protected = ctl["protected"]
    jobs_dir = ensure_dir(ctl["root"], [ctl["jobs_dir"]])
    check_rel(job)
    job_dir = ensure_dir(jobs_dir, [job])
    manifest_path = os.path.join(ensure_dir(ctl["root"], [ctl["manifests_dir"]]), job + ".json")
    old = read_json(manifest_path) or {}
    # Entries of another manifest version are dropped: their files count as unknown and are resent.
    files = (old.get("files") or {}) if old.get("version") == ctl["manifest_version"] else {}
    counts = {"written": 0, "deleted": 0, "chmod": 0}
    try:
        for rel in change["delete"]:
            parts = check_rel(rel, protected)
            ensure_parent_is_safe(job_dir, parts)
            target = os.path.join(job_dir, rel)
            try:
                if not stat.S_ISDIR(os.lstat(target).st_mode):
                    os.unlink(target)
                    counts["deleted"] += 1
            except FileNotFoundError:
                pass
            files.pop(rel, None)
            prune(job_dir, rel)
        for rel in sorted(change["write"]):
            sha256, mode = change["write"][rel]
            parts = check_rel(rel, protected)
            ensure_dir(job_dir, parts[:-1])
            target = os.path.join(job_dir, rel)
            place(staged["%s/%s/%s" % (ctl["jobs_dir"], job, rel)], target, mode)
            files[rel] = record(target, sha256)
            counts["written"] += 1
        for rel, mode in sorted(change["chmod"].items()):
            parts = check_rel(rel, protected)
            ensure_parent_is_safe(job_dir, parts)
            target = os.path.join(job_dir, rel)
            os.chmod(target, mode)
            files[rel] = record(target, files[rel][0] if rel in files else None)
            counts["chmod"] += 1
    finally:
        # What was done is recorded even when a later step failed: the next sync compares
        # against the truth instead of against the previous manifest.
        data = json_dumps({"version": ctl["manifest_version"], "job": job, "files": files}, sort_keys=True)
        write_atomic(manifest_path, data.encode("utf-8"), 0o644)
    return counts


def ensure_parent_is_safe(job_dir, parts):
    path = job_dir
    for part in parts[:-1]:
        path = os.path.join(path, part)
        try:
            if stat.S_ISLNK(os.lstat(path).st_mode):
                raise Refused("%s is a symlink; refusing to change files through it" % path)
        except FileNotFoundError:
            return


def remove_job(ctl, job):
    check_rel(job)
    job_dir = os.path.join(ctl["root"], ctl["jobs_dir"], job)
    removed = 0
    try:
        st = os.lstat(job_dir)
    except FileNotFoundError:
        st = None
    if st is not None and stat.S_ISLNK(st.st_mode):
        os.unlink(job_dir)
    elif st is not None:
        for name in os.listdir(job_dir):
            if name in ctl["kept_on_remove"]:
                continue
            path = os.path.join(job_dir, name)
            if stat.S_ISDIR(os.lstat(path).st_mode):
                import shutil
                shutil.rmtree(path)
            else:
                os.unlink(path)
            removed += 1
        if not os.listdir(job_dir):
            os.rmdir(job_dir)
    for suffix in (".json", ctl["seal_suffix"]):
        try:
            os.unlink(os.path.join(ctl["root"], ctl["manifests_dir"], job + suffix))
        except FileNotFoundError:
            pass
    return removed


def retire_worker(ctl):
    # The worker left the bucket and its last job was just removed: maand's own files go (the
    # jobs' data/ and logs/ were kept by remove_job), then the directories that left empty.
    root = ctl["root"]
    for name in ctl["retire"]:
        check_rel(name)
        try:
            os.unlink(os.path.join(root, name))
        except FileNotFoundError:
            pass
    import shutil
    shutil.rmtree(os.path.join(root, ctl["manifests_dir"]), ignore_errors=True)
    for d in sorted({os.path.dirname(n) for n in ctl["retire"] if os.path.dirname(n)}) + [ctl["jobs_dir"]]:
        try:
            os.rmdir(os.path.join(root, d))
        except OSError:
            pass  # not empty: kept data/ and logs/ live there


def remove_abandoned_staging(root):
    """Staging directories of earlier runs that died (connection lost, worker rebooted)."""
    for name in os.listdir(root):
        if not name.startswith(STAGING_PREFIX):
            continue
        pid = name[len(STAGING_PREFIX):]
        if pid.isdigit() and not process_alive(int(pid)):
            remove_flat_dir(os.path.join(root, name))


def process_alive(pid):
    """A zombie is dead: where nothing reaps orphans, a killed sync stays one indefinitely."""
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            stat_line = f.read()
        return stat_line[stat_line.rfind(b")") + 2:][:1] not in (b"Z", b"X")
    except OSError:
        try:
            os.kill(pid, 0)
            return True
        except ProcessLookupError:
            return False
        except (OverflowError, PermissionError):
            return True


def main():
    stream = sys.stdin.buffer
    ctl = json_loads(stream.readline().decode("utf-8"))
    root = ctl["root"]
    if not os.path.isdir(root):
        os.makedirs(root, 0o755)
    expected = {}
    for job, change in ctl["jobs"].items():
        for rel, (sha256, _mode) in change["write"].items():
            expected["%s/%s/%s" % (ctl["jobs_dir"], job, rel)] = sha256
    for name, (sha256, _mode) in ctl["layout"].items():
        check_rel(name)
        expected[name] = sha256
    remove_abandoned_staging(root)
    staging = os.path.join(root, STAGING_PREFIX + str(os.getpid()))
    os.mkdir(staging, 0o700)
    out = {"ok": True, "jobs": {}, "removed": {}, "layout": []}
    try:
        staged = receive(stream, expected, staging)
        for job in sorted(ctl["jobs"]):
            out["jobs"][job] = apply_job(ctl, job, ctl["jobs"][job], staged)
        for job in ctl["remove"]:
            out["removed"][job] = remove_job(ctl, job)
        if ctl.get("retire"):
            retire_worker(ctl)
        for name in sorted(ctl["layout"]):
            parts = check_rel(name)
            ensure_dir(root, parts[:-1])
            place(staged[name], os.path.join(root, name), ctl["layout"][name][1])
            out["layout"].append(name)
        if ctl.get("seal"):
            seal_jobs(ctl, ctl["seal"])
    finally:
        remove_flat_dir(staging)
    sys.stdout.write(json_dumps(out))


def find_time(ns):
    """Nanoseconds as GNU find's %T@ prints them: seconds, a point, nine digits and a 0."""
    sec, frac = divmod(ns, 1000000000)
    return b"%d.%09d0" % (sec, frac)


def stat_listing(job_dir, protected):
    """Exactly what the state script's `find "$d" -mindepth 1 ( -path "$d/<protected>" ... )
    -prune -o -type f -printf '%P\\0%i %s %T@ %C@ %m\\0'` prints: regular files, depth first in
    directory order (as fts reads it), symlinks neither followed nor listed, the protected
    top-level names skipped whatever they are. A listing that differs in some corner (fts sorts
    directories of 10,000+ entries by inode) only costs the next sync its seal."""
    out = []

    def walk(path, rel, top):
        with os.scandir(path) as entries:
            for e in entries:
                if top and e.name in protected:
                    continue
                if e.is_dir(follow_symlinks=False):
                    walk(e.path, rel + e.name + b"/", False)
                elif e.is_file(follow_symlinks=False):
                    st = e.stat(follow_symlinks=False)
                    out.append(b"%s\0%d %d %s %s %o\0" % (rel + e.name, st.st_ino, st.st_size, find_time(st.st_mtime_ns), find_time(st.st_ctime_ns), st.st_mode & 0o7777))

    if os.path.isdir(job_dir):
        walk(job_dir, b"", True)
    return b"".join(out)


def seal_jobs(ctl, seal):
    """The shell's sealScript, without its find, sha256sum, mkdir and mv (five processes a
    worker): `<token> <sha256 of the stat listing>  -` in manifests/<job>.seal. Best effort: a
    seal that is not written only means a full listing next time."""
    protected = [p.encode() for p in ctl["protected"]]
    manifests = os.path.join(ctl["root"], ctl["manifests_dir"])
    for job in seal["jobs"]:
        try:
            listing = stat_listing(os.path.join(ctl["root"], ctl["jobs_dir"], job).encode(), protected)
            digest = (small_sha256 or hashlib_sha256())(listing).hexdigest()
            if not os.path.isdir(manifests):
                os.makedirs(manifests, 0o755)
            write_atomic(os.path.join(manifests, job + ctl["seal_suffix"]), ("%s %s  -\n" % (seal["token"], digest)).encode(), 0o644)
        except OSError:
            pass


def hashlib_sha256():
    import hashlib
    return hashlib.sha256


def on_term(signum, _frame):
    # Ctrl-C in maand signals this process group: unwind through the finally blocks, so the
    # manifest records what was already renamed into place and the staging area is removed.
    raise Refused("interrupted by signal %d" % signum)


if __name__ == "__main__":  # python3 -c sets it; tests load the functions alone
    signals.signal(signals.SIGTERM, on_term)
    signals.signal(signals.SIGHUP, on_term)
    try:
        main()
    except (Refused, OSError, ValueError, KeyError, UnicodeError) as e:
        sys.stdout.write(json_dumps({"ok": False, "error": "%s: %s" % (type(e).__name__, e) if not isinstance(e, Refused) else str(e)}))
        sys.exit(1)
