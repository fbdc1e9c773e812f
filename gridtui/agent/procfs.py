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
