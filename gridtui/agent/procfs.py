"""Processes read from /proc: shared by the sampler and the node script, inlined when shipped.

Standard library only, and no imports from gridtui: `script_source` puts this text above
each shipped script, which then runs alone on a node.
"""

import os


def proc_stat(pid):
    """(name, fields after the name) of /proc/PID/stat, or None when the process is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return None
    close = stat.rfind(")")
    return stat[stat.find("(") + 1 : close], stat[close + 2 :].split()


def proc_table():
    """{pid: (ppid, state, rss bytes, argv, name)}; zombies are dead, so they are left out."""
    table = {}
    page = os.sysconf("SC_PAGE_SIZE")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        got = proc_stat(entry)
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                argv = [w.decode("utf-8", "replace") for w in f.read().split(b"\0") if w]
        except OSError:
            continue
        if got is None or got[1][0] in ("Z", "X"):
            continue
        name, fields = got
        table[int(entry)] = (int(fields[1]), fields[0], int(fields[21]) * page, argv, name)
    return table


def descendants(roots, parents, skip=()):
    """`roots` and every process below them, from {pid: ppid}, leaving out `skip`."""
    children = {}  # type: dict
    for pid, ppid in parents.items():
        children.setdefault(ppid, []).append(pid)
    seen, stack = set(), list(roots)
    while stack:
        pid = stack.pop()
        if pid in seen or pid in skip:
            continue
        seen.add(pid)
        stack.extend(children.get(pid, ()))
    return seen


def alive(pid):
    got = proc_stat(pid)
    return got is not None and got[1][0] not in ("Z", "X")


def cpu_rss(pid):
    """(cpu seconds, rss bytes) of one process, or None when it has gone."""
    got = proc_stat(pid)
    if got is None:
        return None
    fields = got[1]
    tick, page = os.sysconf("SC_CLK_TCK"), os.sysconf("SC_PAGE_SIZE")
    return (int(fields[11]) + int(fields[12])) / tick, int(fields[21]) * page


def mentions(argv, marker):
    """A word names `marker` as a whole path (so /tmp/a does not match /tmp/ab)."""
    for word in argv:
        start = word.find(marker)
        while start >= 0:
            end = start + len(marker)
            if end == len(word) or word[end] in "/ ,":
                return True
            start = word.find(marker, start + 1)
    return False


# Ray's client server: a head started with Ray's client deps always runs one (no flag turns
# it off), and its argv names the head's GCS address but not the node's temp dir.
CLIENT_SERVER = "ray.util.client.server"


def serves_clients_of(argv, gcs_address):
    """The process is Ray's client server for the GCS at `gcs_address`: exact words only, so
    a raylet's `--gcs-address=...` or another cluster's server never matches."""
    return CLIENT_SERVER in argv and f"--address={gcs_address}" in argv


def work_for(node_dir):
    """The two words that tie a process of gridtui's own (the agent measuring a node, the
    demo's load outside Ray) to a node's temp dir without naming it whole: `mentions`,
    which finds a node's Ray processes to stop or count, must never find these."""
    root, name = os.path.split(node_dir.rstrip("/"))
    return [f"--gridtui-root={root}", f"--gridtui-node={name}"]


def does_work_for(argv, node_dir):
    """The process carries `work_for(node_dir)`: it counts in that node's load."""
    words = set(argv)
    return all(w in words for w in work_for(node_dir))


def ancestors(parents, pid=None):
    """`pid` (default: this process) and its parents, from {pid: ppid}."""
    out, pid = set(), os.getpid() if pid is None else pid
    while pid > 1 and pid not in out:
        out.add(pid)
        pid = parents.get(pid, 0)
    return out


def pss(pid):
    """The process's proportional set size in bytes (a page shared by N processes counts
    1/N in each, so a sum over processes counts it once), or None when it is unreadable."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def owned(argv, markers, gcs=()):
    """Whether a process is one of a node's: its argv names a marker (the node's temp dir),
    or it is Ray's client server for one of the GCS addresses in `gcs` (a head's)."""
    return any(mentions(argv, m) for m in markers) or any(serves_clients_of(argv, a) for a in gcs)
