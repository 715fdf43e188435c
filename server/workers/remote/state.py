# maand worker-side helper, sync round-trip 1: what is on this worker now. Run by maand over SSH:
#   python3 -c "<this file>" '<json: {"root", "jobs", "manifests_dir", "jobs_dir", "layout": [names]}>'
# Prints one JSON object. For each job, the files of its manifest (written by the last sync)
# split into "intact" (still exactly as that sync left them: same inode, size, mode, mtime and
# ctime) and "stale" (changed or removed behind maand's back, to be repaired). Comparing stat
# results instead of hashing keeps this cheap for large jobs; ctime cannot be set back by a
# user, so `touch -d` after an edit is still caught.
import hashlib
import json
import os
import stat
import sys


def file_sha256(path):
    try:
        with open(path, "rb") as f:
            return hashlib.sha256(f.read()).hexdigest()
    except OSError:
        return None


def read_json(path):
    try:
        with open(path, "rb") as f:
            return json.loads(f.read().decode("utf-8"))
    except (OSError, ValueError):
        return None


def same(st, rec):
    return (stat.S_ISREG(st.st_mode)
            and st.st_ino == rec.get("ino")
            and st.st_size == rec.get("size")
            and st.st_mtime_ns == rec.get("mtime_ns")
            and st.st_ctime_ns == rec.get("ctime_ns")
            and stat.S_IMODE(st.st_mode) == rec.get("mode"))


def job_state(args, job):
    manifest = read_json(os.path.join(args["root"], args["manifests_dir"], job + ".json"))
    job_dir = os.path.join(args["root"], args["jobs_dir"], job)
    intact, stale = {}, []
    files = (manifest or {}).get("files") or {}
    for rel in sorted(files):
        rec = files[rel]
        try:
            ok = same(os.lstat(os.path.join(job_dir, rel)), rec)
        except OSError:
            ok = False
        if ok:
            intact[rel] = [rec.get("sha256"), rec.get("mode")]
        else:
            stale.append(rel)
    return {"manifest": manifest is not None, "dir": os.path.isdir(job_dir), "intact": intact, "stale": stale}


def main():
    args = json.loads(sys.argv[1])
    root = args["root"]
    worker = read_json(os.path.join(root, "worker.json")) or {}
    out = {
        "ok": True,
        "root_exists": os.path.isdir(root),
        "update_seq": worker.get("update_seq"),
        "layout": dict((name, file_sha256(os.path.join(root, name))) for name in args.get("layout", [])),
        "jobs": dict((job, job_state(args, job)) for job in args["jobs"]),
    }
    sys.stdout.write(json.dumps(out, separators=(",", ":")))


main()
