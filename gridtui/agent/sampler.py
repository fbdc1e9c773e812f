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

from gridtui.agent.rayscope import (  # inlined when shipped
    RayScope,
    _proc_list,
    is_ray_process,
    over_capacity,
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
    # The node's Ray temp dir (which its processes name) comes in two parts: a word naming
    # it whole would make this agent look like one of the node's Ray processes to `cluster
    # stop` and `cluster start`.
    parser.add_argument("--node-root", default="", help="the directory of the node's temp dir")
    parser.add_argument("--node-name", default="", help="the node's temp dir within it")
    parser.add_argument("--cpus", type=float, default=1.0)
    parser.add_argument("--memory", type=int, default=0, help="declared bytes (ray-processes)")
    parser.add_argument("--count", type=int, default=0, help="stop after N samples (0: never)")
    args = parser.parse_args(argv)

    interval = max(0.05, args.interval)
    cpu = CpuMeter()
    gpus = open_gpus(interval)
    scope = (
        RayScope(os.path.join(args.node_root, args.node_name), args.cpus, args.memory, own=True)
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
