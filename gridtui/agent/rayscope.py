"""One co-located Ray node's load, from its processes: shared by the agent and the engine.

Standard library only (psutil when the node has it), inlined above the agent when shipped.
"""

import os
import time

from gridtui.agent.procfs import (  # inlined when shipped
    ancestors,
    cpu_rss,
    descendants,
    does_work_for,
    mentions,
    proc_stat,
    proc_table,
    pss,
)

try:
    import psutil
except Exception:  # the node may not have it; /proc is enough
    psutil = None  # type: ignore[assignment]


RAY_NAMES = ("raylet", "gcs_server", "plasma_store")


def _proc_list():
    """(pid, ppid, name, cmdline words) for every process, via psutil or /proc."""
    out = []
    if psutil:
        for p in psutil.process_iter(["pid", "ppid", "name", "cmdline"]):
            info = p.info
            out.append((info["pid"], info["ppid"] or 0, info["name"] or "", info["cmdline"] or []))
        return out
    return [(pid, p[0], p[4], p[3]) for pid, p in proc_table().items()]


def is_ray_process(name, cmd):
    first = cmd[0] if cmd else ""
    return (
        name in RAY_NAMES
        or first.startswith("ray::")
        or any(os.path.basename(w) in RAY_NAMES for w in cmd[:1])
    )


def process_tree(node_dir, procs, own=False):
    """PIDs of one co-located Ray node: the processes naming its own Ray temp dir (its
    raylet; on the head, the GCS and the dashboard too) and their descendants (the
    workers). The node's address would not do: every Ray cluster on this host whose
    nodes use the same addresses names it too. `own`: leave out this process and its
    parents. Work gridtui runs for the node (the demo's load outside Ray) counts too: it
    names the node with `work_for`, which a stop or a count of its Ray processes ignores."""
    parents = {pid: ppid for pid, ppid, _, _ in procs}
    skip = ancestors(parents) if own else ()
    roots = {pid for pid, _, _, cmd in procs if pid not in skip and _names(cmd, node_dir)}
    return descendants(roots, parents, skip)


def _names(cmd, node_dir):
    return mentions(cmd, node_dir) or does_work_for(cmd, node_dir)


def proc_cpu_rss(pid):
    """(cpu seconds, rss bytes) of one process, or None when it has gone."""
    try:
        if psutil:
            p = psutil.Process(pid)
            t = p.cpu_times()
            return t.user + t.system, p.memory_info().rss
        return cpu_rss(pid)
    except Exception:
        return None


class RayScope:
    """Load of one Ray node's process tree, as a share of its declared CPUs and memory.

    Memory is the sum of the processes' proportional set sizes (PSS): Ray's workers map
    the same libraries and object store pages, and a sum of resident sizes counted each
    shared page once per process (the demo's head read over its declared memory so).
    A process's PSS costs the kernel a walk of its page tables (2-25 ms for a Ray
    worker), so it is read when the process is new and then for one process per read,
    each every PSS_SECONDS at most; in between, the resident size (cheap, from `stat`) is
    scaled by that process's last PSS/RSS ratio.

    Reading every process's command line is the dearest step of a sample (about 23 ms of
    CPU per sample on a busy host), and the tree changes rarely: it is kept between
    samples, new PIDs alone are looked at (a listing of /proc is cheap), and the whole
    scan runs again only every RESCAN_SECONDS (a reparented process, a root that changed
    its command line)."""

    RESCAN_SECONDS = 15.0
    PSS_SECONDS = 10.0

    def __init__(self, node_dir, cpus, mem_total, own=False):
        self.node_dir = node_dir
        self.own = own
        self.cpus = max(cpus, 0.01)
        self.mem_total = mem_total
        self.prev = {}
        self.prev_time = time.monotonic()
        self.shares = {}  # pid: (PSS/RSS, when read)
        self.tree = set()
        self.known = set()
        self.scanned_at = None
        self.scans = 0
        self.read()

    def pids(self, now=None):
        """The node's PIDs now: the cached tree, grown by new PIDs that join it."""
        now = time.monotonic() if now is None else now
        listing = _pid_listing()
        if (
            listing is None
            or self.scanned_at is None
            or now - self.scanned_at >= self.RESCAN_SECONDS
        ):
            self.tree = process_tree(self.node_dir, _proc_list(), self.own)
            self.scanned_at = now
            self.scans += 1
        elif listing != self.known:
            self.tree &= listing
            fresh = {}
            for pid in sorted(listing - self.known):
                got = _pid_info(pid)
                if got is not None:
                    fresh[pid] = got
            grew = True
            while grew:  # a new child of a new member joins too, whatever the PID order
                grew = False
                for pid, (ppid, cmd) in list(fresh.items()):
                    if ppid in self.tree or _names(cmd, self.node_dir):
                        self.tree.add(pid)
                        del fresh[pid]
                        grew = True
        self.known = listing if listing is not None else set()
        return set(self.tree)

    def _share(self, pid, rss, now, due):
        """The part of the process's resident size that is its own share (PSS/RSS)."""
        known = self.shares.get(pid)
        if known is not None and not (due and now - known[1] >= self.PSS_SECONDS):
            return known[0]
        proportional = pss(pid) if _HAS_PROC and rss > 0 else None
        ratio = 1.0 if proportional is None else min(1.0, proportional / rss)
        self.shares[pid] = (ratio, now)
        return ratio

    def read(self):
        """(cpu percent of the declared CPUs, memory bytes, process count). The CPU is
        what the tree used since the previous read (none of it when that was under
        MIN_CPU_SECONDS ago: a clock tick is 10 ms, so a shorter span is noise)."""
        now = time.monotonic()
        pids = self.pids(now)
        cpu_used = 0.0
        used = 0.0
        current = {}
        stalest = min(pids & set(self.shares), key=lambda p: self.shares[p][1], default=None)
        for pid in pids:
            got = cpu_rss(pid) if _HAS_PROC else proc_cpu_rss(pid)
            if got is None:
                self.tree.discard(pid)
                continue
            current[pid] = got[0]
            cpu_used += max(0.0, got[0] - self.prev.get(pid, got[0]))
            used += got[1] * self._share(pid, got[1], now, pid == stalest)
        self.shares = {p: v for p, v in self.shares.items() if p in current}
        used = int(used)
        span = now - self.prev_time
        if span < MIN_CPU_SECONDS:
            return None, used, len(current)  # the next read measures from the last one
        self.prev, self.prev_time = current, now
        # A tree that holds more CPU than its node declares reads over 100%: the agent
        # and the engine flag it (over_capacity), they do not hide it.
        return 100.0 * cpu_used / (span * self.cpus), used, len(current)


MIN_CPU_SECONDS = 0.2


def over_capacity(figures):
    """{resource: percent} of the figures over 100% of what the node has (or declares).
    Neither can be, measured right, but for work that holds more than its node declares
    (a co-located node's processes are not kept to its share of the host): shown and
    logged as such, never clipped."""
    return {k: round(v, 1) for k, v in figures.items() if v is not None and v > 100.0}


_HAS_PROC = os.path.isdir("/proc/self")


def _pid_listing():
    """Every PID now (one directory listing), or None without /proc."""
    if not _HAS_PROC:
        return None
    try:
        return {int(e) for e in os.listdir("/proc") if e.isdigit()}
    except OSError:
        return None


def _pid_info(pid):
    """(ppid, argv) of one process from /proc, or None when it is gone or a zombie."""
    got = proc_stat(pid)
    if got is None or got[1][0] in ("Z", "X"):
        return None
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            argv = [w.decode("utf-8", "replace") for w in f.read().split(b"\0") if w]
    except OSError:
        return None
    return int(got[1][1]), argv
