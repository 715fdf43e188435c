# maand worker-side helper: stop aborted commands. Run by maand over SSH as
#   python3 -c "<this file>" <marker>...
# Each command maand starts runs as `timeout ... sh -c '<cmd>' <marker>`; timeout leads its own
# process group. Signal those groups: SIGTERM, then SIGKILL for what is still there shortly after.
import os
import signal
import sys
import time

GRACE_SECONDS = 3.0


def timeout_leaders(markers):
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % name, "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if argv and os.path.basename(argv[0]) == b"timeout" and markers.intersection(argv):
            found.append(int(name))
    return found


def group_alive(pgid):
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name, "rb") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2:].split(b" ")
        if len(fields) > 2 and int(fields[2]) == pgid and fields[0] not in (b"Z", b"X"):
            return True
    return False


def signal_groups(pgids, sig):
    for pgid in pgids:
        try:
            os.killpg(pgid, sig)
        except OSError:
            pass


def main():
    markers = set(os.fsencode(m) for m in sys.argv[1:])
    groups = timeout_leaders(markers)
    signal_groups(groups, signal.SIGTERM)
    deadline = time.time() + GRACE_SECONDS
    while groups and time.time() < deadline:
        groups = [g for g in groups if group_alive(g)]
        if groups:
            time.sleep(0.05)
    signal_groups(groups, signal.SIGKILL)
    print("stopped %d" % len(markers))


main()
