"""gridtui node agent: stdlib-only, sent over SSH once, prints one JSON line per interval.

It is run as `python3 -u - [options]` with this file on stdin, so nothing is installed on
the node. psutil and NVML are used when the node has them; /proc and a single long-lived
`nvidia-smi -lms` otherwise. No process is spawned per sample.
"""

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time

from gridtui.agent.procfs import (  # inlined when shipped
    ancestors,
    cpu_rss,
    descendants,
    mentions,
    proc_stat,
    proc_table,
    pss,
)

AGENT_VERSION = 1

try:
    import psutil
except Exception:  # the node may not have it; /proc is enough
    psutil = None  # type: ignore[assignment]


def read_proc_stat():
    """Per-core (busy, total) jiffies from /proc/stat; index 0 is the whole machine."""
    out = []
    with open("/proc/stat") as f:
        for line in f:
            if not line.startswith("cpu"):
                break
            parts = line.split()
            vals = [int(x) for x in parts[1:]]
            idle = vals[3] + (vals[4] if len(vals) > 4 else 0)
            total = sum(vals[:8])
            out.append((total - idle, total))
    return out


class CpuMeter:
    def __init__(self):
        self.prev = None if psutil else read_proc_stat()
        if psutil:
            psutil.cpu_percent(percpu=True)

    def read(self):
        if psutil:
            cores = psutil.cpu_percent(percpu=True)
            total = sum(cores) / len(cores) if cores else 0.0
            return total, cores
        now = read_proc_stat()
        pct = []
        for (b0, t0), (b1, t1) in zip(self.prev or [], now):  # noqa: B905
            dt = t1 - t0
            pct.append(100.0 * (b1 - b0) / dt if dt > 0 else 0.0)
        self.prev = now
        return (pct[0] if pct else 0.0), pct[1:]


def read_meminfo():
    info = {}
    with open("/proc/meminfo") as f:
        for line in f:
            key, _, rest = line.partition(":")
            info[key] = int(rest.split()[0]) * 1024
    return info


def memory():
    if psutil:
        vm, sw = psutil.virtual_memory(), psutil.swap_memory()
        return (vm.total, vm.total - vm.available), (sw.total, sw.used)
    m = read_meminfo()
    total = m.get("MemTotal", 0)
    avail = m.get("MemAvailable", m.get("MemFree", 0))
    stotal = m.get("SwapTotal", 0)
    return (total, total - avail), (stotal, stotal - m.get("SwapFree", 0))


def disk_root():
    st = os.statvfs("/")
    total = st.f_blocks * st.f_frsize
    return total, total - st.f_bavail * st.f_frsize


def net_bytes():
    if psutil:
        c = psutil.net_io_counters(pernic=True)
        return (
            sum(v.bytes_recv for k, v in c.items() if k != "lo"),
            sum(v.bytes_sent for k, v in c.items() if k != "lo"),
        )
    rx = tx = 0
    with open("/proc/net/dev") as f:
        for line in f.readlines()[2:]:
            name, _, rest = line.partition(":")
            if name.strip() == "lo":
                continue
            vals = rest.split()
            rx += int(vals[0])
            tx += int(vals[8])
    return rx, tx


class NvmlGpus:
    def __init__(self, nvml):
        self.nvml = nvml
        nvml.nvmlInit()
        self.handles = [
            nvml.nvmlDeviceGetHandleByIndex(i) for i in range(nvml.nvmlDeviceGetCount())
        ]

    def read(self):
        nv = self.nvml
        out = []
        for i, h in enumerate(self.handles):
            name = nv.nvmlDeviceGetName(h)
            if isinstance(name, bytes):
                name = name.decode()
            util = nv.nvmlDeviceGetUtilizationRates(h)
            mem = nv.nvmlDeviceGetMemoryInfo(h)
            try:
                temp = nv.nvmlDeviceGetTemperature(h, 0)
            except Exception:
                temp = None
            out.append(
                {
                    "index": i,
                    "name": name,
                    "util": float(util.gpu),
                    "mem_used": int(mem.used),
                    "mem_total": int(mem.total),
                    "temp": temp,
                }
            )
        return out


class SmiGpus:
    """One `nvidia-smi -lms` for the agent's lifetime; a thread keeps the latest block."""

    FIELDS = "index,name,utilization.gpu,memory.used,memory.total,temperature.gpu"

    def __init__(self, exe, interval):
        self.latest = {}
        self.proc = subprocess.Popen(
            [
                exe,
                "--query-gpu=" + self.FIELDS,
                "--format=csv,noheader,nounits",
                "-lms",
                str(max(100, int(interval * 1000))),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self):
        for line in self.proc.stdout or ():
            parts = [p.strip() for p in line.split(",")]
            if len(parts) < 6:
                continue
            try:
                idx = int(parts[0])
                temp = None if parts[5] in ("", "[N/A]") else float(parts[5])
                self.latest[idx] = {
                    "index": idx,
                    "name": parts[1],
                    "util": float(parts[2]),
                    "mem_used": int(float(parts[3]) * 1024 * 1024),
                    "mem_total": int(float(parts[4]) * 1024 * 1024),
                    "temp": temp,
                }
            except ValueError:
                continue

    def read(self):
        return [self.latest[k] for k in sorted(self.latest)]


def open_gpus(interval):
    """NVML first, nvidia-smi second, and no GPU is a normal answer."""
    try:
        import pynvml

        return NvmlGpus(pynvml)
    except Exception:
        pass
    exe = shutil.which("nvidia-smi")
    if exe:
        try:
            return SmiGpus(exe, interval)
        except OSError:
            pass
    return None


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
    parents (the agent's command line names the directory it measures)."""
    parents = {pid: ppid for pid, ppid, _, _ in procs}
    skip = ancestors(parents) if own else ()
    roots = {pid for pid, _, _, cmd in procs if pid not in skip and mentions(cmd, node_dir)}
    return descendants(roots, parents, skip)


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
                    if ppid in self.tree or mentions(cmd, self.node_dir):
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


class RayCounter:
    """Ray processes on the host. A full process scan is the agent's dearest step, and the
    count changes rarely, so it is refreshed every few seconds, not every sample."""

    REFRESH_SECONDS = 5.0

    def __init__(self):
        self.count = 0
        self.at = None

    def read(self):
        now = time.monotonic()
        if self.at is None or now - self.at >= self.REFRESH_SECONDS:
            self.count = sum(1 for _, _, name, cmd in _proc_list() if is_ray_process(name, cmd))
            self.at = now
        return self.count


def main(argv=None):
    parser = argparse.ArgumentParser(prog="gridtui-agent")
    parser.add_argument("--interval", type=float, default=1.0)
    parser.add_argument("--scope", choices=("host", "ray-processes"), default="host")
    parser.add_argument(
        "--node-dir", default="", help="the Ray node's own temp dir, which its processes name"
    )
    parser.add_argument("--cpus", type=float, default=1.0)
    parser.add_argument("--memory", type=int, default=0, help="declared bytes (ray-processes)")
    parser.add_argument("--count", type=int, default=0, help="stop after N samples (0: never)")
    args = parser.parse_args(argv)

    interval = max(0.05, args.interval)
    cpu = CpuMeter()
    gpus = open_gpus(interval)
    scope = (
        RayScope(args.node_dir, args.cpus, args.memory, own=True)
        if args.scope == "ray-processes"
        else None
    )
    ray_counter = RayCounter()
    host = socket.gethostname()
    out = sys.stdout
    # The first sample comes quickly so the console has figures in its first second.
    time.sleep(min(interval, 0.2))
    seq = 0
    next_at = time.monotonic()
    scope_cpu = 0.0
    while True:
        total, cores = cpu.read()
        (mem_total, mem_used), (swap_total, swap_used) = memory()
        disk_total, disk_used = disk_root()
        rx, tx = net_bytes()
        ray_count = 0
        if scope is not None:
            cpu_now, rss, ray_count = scope.read()
            scope_cpu = total = scope_cpu if cpu_now is None else cpu_now
            cores = [total]
            mem_total = scope.mem_total or mem_total
            mem_used = rss
        else:
            ray_count = ray_counter.read()
        gpu_list = []
        if gpus is not None:
            try:
                gpu_list = gpus.read()
            except Exception:
                gpu_list = []
        record = {
            "v": AGENT_VERSION,
            "seq": seq,
            "t": time.time(),
            "host": host,
            "scope": args.scope,
            "cpu": round(total, 2),
            "cores": [round(c, 1) for c in cores],
            "load": list(os.getloadavg()),
            "mem": {"total": mem_total, "used": mem_used},
            "swap": {"total": swap_total, "used": swap_used},
            "disk": {"total": disk_total, "used": disk_used},
            "net": {"rx": rx, "tx": tx},
            "gpus": gpu_list,
            "ray": {"processes": ray_count},
        }
        over = over_capacity(
            {"cpu": total, "memory": 100.0 * mem_used / mem_total if mem_total else None}
        )
        if over:
            record["over"] = over
        try:
            out.write(json.dumps(record, separators=(",", ":")) + "\n")
            out.flush()
        except (BrokenPipeError, OSError):
            return 0  # the console went away: so do we
        seq += 1
        if args.count and seq >= args.count:
            return 0
        next_at += interval
        delay = next_at - time.monotonic()
        if delay < 0:  # we fell behind (suspended laptop, slow /proc): resync, don't burst
            next_at = time.monotonic()
            delay = 0
        time.sleep(delay)


if __name__ in ("__main__", "<stdin>") or __name__ == "__gridtui_agent__":
    sys.exit(main(sys.argv[1:]))
