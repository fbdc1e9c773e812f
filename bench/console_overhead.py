"""Console overhead: CPU of the running `gridtui` console process while it monitors nodes.

Two cases, as the issue asks: 3 real SSH nodes (real agents) at a 1 s interval, and 100
simulated SSH nodes (SSH servers that answer the agent command with synthetic JSON lines,
so the host's two cores are not spent on 100 agents). The console runs for real in a pty.
Baseline, same run: glances (`pip install glances`), monitoring this one host at its 2 s
refresh, measured the same way. Goals: gridtui under 3% (3 nodes) and 15% (100 nodes) of
one core. Run: .venv/bin/python bench/console_overhead.py [--seconds 20]
"""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import json
import os
import pty
import random
import select
import shutil
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from pathlib import Path

import psutil
from _report import emit, quick_arg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "integration"))
sys.path.insert(0, str(ROOT / "bench"))  # fanout.cluster_yaml

ADDRESSES = [f"127.0.0.{i}" for i in range(2, 12)]


# -- servers (child process) --------------------------------------------------------------


async def serve(count: int, simulated: bool, interval: float, workdir: Path) -> None:
    import asyncssh
    import sshd

    hosts = [ADDRESSES[i % len(ADDRESSES)] for i in range(count)]
    cluster = sshd.SshCluster(workdir, hosts)
    if simulated:

        async def fake_agent(process: asyncssh.SSHServerProcess[bytes]) -> None:
            await process.stdin.read()  # the agent's source, up to EOF, as the real one
            rng, seq = random.Random(), 0
            try:
                while True:
                    cpu = rng.uniform(0, 100)
                    line = {
                        "v": 1,
                        "seq": seq,
                        "t": time.time(),
                        "host": "sim",
                        "cpu": cpu,
                        "cores": [cpu] * 8,
                        "load": [1.0, 1.0, 1.0],
                        "mem": {"total": 64 << 30, "used": rng.randint(1, 60) << 30},
                        "swap": {"total": 0, "used": 0},
                        "disk": {"total": 1 << 40, "used": 1 << 39},
                        "net": {"rx": seq * 1000, "tx": seq * 500},
                        "gpus": [],
                        "ray": {"processes": 0},
                    }
                    process.stdout.write((json.dumps(line) + "\n").encode())
                    seq += 1
                    await asyncio.sleep(interval)
            except (OSError, asyncssh.Error):
                pass
            finally:
                process.exit(0)

        for server in cluster.servers:
            server._session = fake_agent  # type: ignore[method-assign]
    await cluster.start()
    print(
        json.dumps(
            {
                "servers": [[s.host, s.port] for s in cluster.servers],
                "identity": str(cluster.identity),
                "known_hosts": str(cluster.known_hosts),
            }
        ),
        flush=True,
    )
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    await cluster.stop()


def write_config(info: dict, interval: float, path: Path) -> Path:
    from fanout import cluster_yaml

    path.write_text(cluster_yaml(info, interval, name="overhead"))
    return path


# -- measuring a terminal program ---------------------------------------------------------


def cpu_percent_in_pty(
    argv: list[str], seconds: float, warmup: float, env: dict[str, str]
) -> float:
    """Run argv on a 140x40 pty, drain its output, return its CPU as % of one core."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 140, 0, 0))
    proc = subprocess.Popen(
        argv, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True
    )
    os.close(slave)
    stop = threading.Event()

    def drain() -> None:
        while not stop.is_set():
            if select.select([master], [], [], 0.1)[0]:
                try:
                    os.read(master, 65536)
                except OSError:
                    return

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        time.sleep(warmup)
        p = psutil.Process(proc.pid)
        t0, c0 = time.monotonic(), sum(p.cpu_times()[:2])
        time.sleep(seconds)
        t1, c1 = time.monotonic(), sum(p.cpu_times()[:2])
        return 100.0 * (c1 - c0) / (t1 - t0)
    finally:
        stop.set()
        proc.kill()
        proc.wait()
        reader.join(2)
        os.close(master)


def with_servers(count: int, simulated: bool, interval: float, tmp: Path, fn):
    child = subprocess.Popen(
        [
            sys.executable,
            __file__,
            "--serve",
            str(count),
            "--interval",
            str(interval),
            "--workdir",
            str(tmp),
            *(["--simulated"] if simulated else []),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = child.stdout.readline() if child.stdout else ""
        if not line:
            raise SystemExit("the SSH server process did not start")
        return fn(json.loads(line))
    finally:
        if child.stdin:
            child.stdin.close()
        try:
            child.wait(30)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--simulated", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--interval", type=float, default=1.0, help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    quick_arg(parser)
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.warmup = 5.0, 3.0
    if args.serve:
        asyncio.run(serve(args.serve, args.simulated, args.interval, Path(args.workdir)))
        return 0

    gridtui = str(Path(sys.executable).with_name("gridtui"))
    glances = shutil.which("glances", path=str(Path(sys.executable).parent)) or shutil.which(
        "glances"
    )
    with tempfile.TemporaryDirectory(prefix="gridtui-overhead-") as tmp_name:
        tmp = Path(tmp_name)
        env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
        env.update(TERM="xterm-256color", XDG_STATE_HOME=str(tmp / "state"))
        results: dict[str, float] = {}
        if glances:
            results["glances, 1 host, 2 s"] = cpu_percent_in_pty(
                [glances, "-t", "2"], args.seconds, args.warmup, env
            )
        for count, simulated in ((3, False), (100, True)):
            label = f"gridtui, {count} {'simulated ' if simulated else ''}SSH nodes, 1 s"
            sub = tmp / f"n{count}"
            sub.mkdir()

            def run(info: dict, sub: Path = sub) -> float:
                cfg = write_config(info, 1.0, sub / "cluster.yaml")
                return cpu_percent_in_pty([gridtui, "-c", str(cfg)], args.seconds, args.warmup, env)

            results[label] = with_servers(count, simulated, 1.0, sub, run)
    for label, pct in results.items():
        print(f"{label:<42} {pct:6.2f}% of one core")
    base = results.get("glances, 1 host, 2 s")
    g3 = results["gridtui, 3 SSH nodes, 1 s"]
    g100 = results["gridtui, 100 simulated SSH nodes, 1 s"]
    if base:
        print(
            f"ratio gridtui(3 nodes) / glances(1 host): {g3 / base:.2f}x; "
            f"gridtui(100 nodes) / glances: {g100 / base:.2f}x"
        )
    else:
        print("glances is not installed (pip install glances): no baseline ratio")
    print(
        f"goals: 3 nodes < 3% -> {'met' if g3 < 3 else 'NOT met'}; "
        f"100 nodes < 15% -> {'met' if g100 < 15 else 'NOT met'}"
    )
    for label, pct, goal in (("3 SSH nodes", g3, 3.0), ("100 simulated SSH nodes", g100, 15.0)):
        emit(
            f"console CPU, {label} at 1 s",
            round(pct, 2),
            unit="% of a core",
            baseline=round(base, 2) if base else None,
            ratio=round(pct / base, 2) if base else None,
            goal=f"< {goal:g}%",
            met=pct < goal,
            note="baseline: glances on this host at 2 s" if base else "glances not installed",
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
