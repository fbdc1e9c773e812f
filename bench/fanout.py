"""Fan-out bench: the streaming agent over kept SSH connections vs. a fresh ssh exec per poll."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "integration"))  # the in-process SSH server helper

import psutil  # noqa: E402
from _report import emit, quick_arg  # noqa: E402

from gridtui.config import ClusterConfig, parse_config  # noqa: E402
from gridtui.services.metrics.agent_launch import agent_argv, agent_source  # noqa: E402
from gridtui.services.metrics.hub import MetricsHub  # noqa: E402
from gridtui.transport.ssh import SshTransport  # noqa: E402

ADDRESSES = [f"127.0.0.{i}" for i in range(2, 12)]
SERVER_PID = 0  # the child running the servers; its tree's CPU shows whether it kept up


def server_cpu() -> float:
    """CPU seconds of the server child, its live agents and its reaped children."""
    try:
        root = psutil.Process(SERVER_PID)
        total = sum(root.cpu_times()[:4])
        for child in root.children(recursive=True):
            with contextlib.suppress(psutil.Error):
                total += sum(child.cpu_times()[:2])
        return total
    except psutil.Error:
        return float("nan")


# -- the server side, in a child process so its CPU is not the client's -------------------


async def serve(count: int, workdir: Path) -> None:
    import sshd

    hosts = [ADDRESSES[i % len(ADDRESSES)] for i in range(count)]
    cluster = sshd.SshCluster(workdir, hosts)
    await cluster.start()
    info = {
        "servers": [[s.host, s.port] for s in cluster.servers],
        "identity": str(cluster.identity),
        "known_hosts": str(cluster.known_hosts),
    }
    print(json.dumps(info), flush=True)
    # Serve until the parent closes our stdin (or dies).
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    await cluster.stop()


# -- the client side ----------------------------------------------------------------------


def cluster_yaml(info: dict[str, Any], interval: float, name: str = "fanout") -> str:
    """A cluster file for the servers a bench child process announced."""
    lines = [
        f"name: {name}",
        f"sample_interval: {interval}",
        "ssh:",
        f"  known_hosts: {info['known_hosts']}",
        "  use_ssh_config: false",
        f"  max_concurrent_connects: {max(16, len(info['servers']))}",
        "nodes:",
    ]
    for i, (host, port) in enumerate(info["servers"]):
        lines += [
            f"  - name: n{i:03d}",
            f"    host: {host}",
            f"    port: {port}",
            "    user: bench",
            f"    identity: {info['identity']}",
            f"    python: {sys.executable}",
        ]
    return "\n".join(lines) + "\n"


def cluster_config(info: dict[str, Any], interval: float) -> ClusterConfig:
    return parse_config(cluster_yaml(info, interval), "fanout.yaml")


class AgeProbe:
    """Reads every node's latest-sample age at random moments, as a console glancing would."""

    def __init__(
        self,
        latest: Callable[[str], float | None],
        interval: float,
        lag: Callable[[str], float | None] = lambda _: None,
    ) -> None:
        self.latest = latest  # node -> the agent's own timestamp of its newest sample
        self.lag = lag  # node -> seconds from sampling on the node to arrival here
        self.interval = interval
        self.ages: list[float] = []
        self.lags: list[float] = []
        self.missing = 0

    async def run(self, nodes: list[str], seconds: float) -> None:
        end = time.monotonic() + seconds
        rng = random.Random(7)
        while time.monotonic() < end:
            await asyncio.sleep(rng.uniform(0.02, self.interval / 2))
            now = time.time()
            for name in nodes:
                t = self.latest(name)
                if t is None:
                    self.missing += 1
                else:
                    self.ages.append(max(0.0, now - t))
                lag = self.lag(name)
                if lag is not None:
                    self.lags.append(lag)

    def summary(self) -> dict[str, float]:
        ages = sorted(self.ages) or [float("nan")]
        beyond = sorted(max(0.0, a - self.interval) for a in ages)

        def pct(xs: list[float], p: float) -> float:
            return xs[min(len(xs) - 1, int(p * len(xs)))]

        lags = sorted(self.lags) or [float("nan")]
        return {
            "lag_p50": pct(lags, 0.50),
            "lag_p95": pct(lags, 0.95),
            "age_p50": pct(ages, 0.50),
            "age_p95": pct(ages, 0.95),
            "age_max": ages[-1],
            "beyond_p50": pct(beyond, 0.50),
            "beyond_p95": pct(beyond, 0.95),
            "beyond_max": beyond[-1],
            "reads": float(len(self.ages)),
            "missing": float(self.missing),
        }


async def wait_all(latest: dict[str, float], count: int, timeout: float) -> bool:
    for _ in range(int(timeout * 10)):
        if len(latest) >= count:
            return True
        await asyncio.sleep(0.1)
    return len(latest) >= count


async def streaming(cfg: ClusterConfig, seconds: float) -> dict[str, float]:
    transports = {n.name: SshTransport(n, cfg.ssh) for n in cfg.nodes}
    hub = MetricsHub(cfg, transports)
    latest: dict[str, float] = {}
    hub.subscribe(
        lambda snap: latest.update({n.name: n.sample.time for n in snap.nodes if n.sample})
    )
    await hub.start()
    try:
        names = [n.name for n in cfg.nodes]
        await wait_all(latest, len(names), 90)
        await asyncio.sleep(cfg.sample_interval)  # past the agents' quick first sample

        def newest(name: str) -> float | None:
            # The hub's own record, not a published snapshot: no extra copying per read.
            sample = hub._tracks[name].sample
            return sample.time if sample is not None else None

        def lag(name: str) -> float | None:
            sample = hub._tracks[name].sample
            return sample.received - sample.time if sample is not None else None

        def delivered() -> int:
            return sum(len(hub.history(name, "cpu")) for name in names)

        probe = AgeProbe(newest, cfg.sample_interval, lag)
        cpu0, wall0, samples0 = time.process_time(), time.monotonic(), delivered()
        server0 = server_cpu()
        await probe.run(names, seconds)
        cpu = time.process_time() - cpu0
        server = server_cpu() - server0
        wall = time.monotonic() - wall0
        samples = delivered() - samples0
        connects = sum(t.connects for t in transports.values())
    finally:
        await hub.stop()
    return {
        "cpu": cpu,
        "wall": wall,
        "samples": float(samples),
        "server_cpu": server,
        "connects": float(connects),
        **probe.summary(),
    }


async def baseline(cfg: ClusterConfig, seconds: float) -> dict[str, float]:
    """A fresh connection per node per poll: connect, run the agent once, close."""
    latest: dict[str, float] = {}
    interval = cfg.sample_interval
    source = agent_source()
    polls = failures = 0
    # A flag as well as cancel(): Python 3.11's wait_for can swallow a cancellation.
    stop = asyncio.Event()

    async def poll_node(node_index: int) -> None:
        nonlocal polls, failures
        node = cfg.nodes[node_index]
        argv = [*agent_argv(node, interval, cfg), "--count", "1"]
        next_at = time.monotonic() + random.uniform(0, interval)
        while not stop.is_set():
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
            t = SshTransport(node, cfg.ssh, connect_attempts=1)
            try:
                res = await t.run(argv, input=source, timeout=30)
                line = res.stdout.strip().splitlines()[-1] if res.stdout.strip() else ""
                latest[node.name] = json.loads(line)["t"]
                polls += 1
            except Exception:
                failures += 1
            finally:
                await t.close()
            # Like cron or a polling loop: the next tick, skipping any that were missed.
            now = time.monotonic()
            next_at += interval * max(1, int((now - next_at) // interval) + 1)

    cpu0 = time.process_time()
    tasks = [asyncio.create_task(poll_node(i)) for i in range(len(cfg.nodes))]
    try:
        await wait_all(latest, len(cfg.nodes), 60)
        probe = AgeProbe(latest.get, interval)
        cpu0, wall0, polls0 = time.process_time(), time.monotonic(), polls
        server0 = server_cpu()
        await probe.run([n.name for n in cfg.nodes], seconds)
        cpu = time.process_time() - cpu0
        server = server_cpu() - server0
        wall = time.monotonic() - wall0
        done = polls - polls0
    finally:
        stop.set()
        for task in tasks:
            task.cancel()
        await asyncio.wait(tasks, timeout=40)
    return {
        "cpu": cpu,
        "wall": wall,
        "polls": float(done),
        "samples": float(done),
        "server_cpu": server,
        "failures": float(failures),
    } | probe.summary()


def show(name: str, r: dict[str, float]) -> None:
    print(
        f"{name:>10}: client CPU {r['cpu']:.2f}s over {r['wall']:.1f}s "
        f"({100 * r['cpu'] / r['wall']:.1f}% of one core); sample age p50 {r['age_p50']:.3f}s "
        f"p95 {r['age_p95']:.3f}s max {r['age_max']:.3f}s; beyond the interval p50 "
        f"{1000 * r['beyond_p50']:.0f}ms p95 {1000 * r['beyond_p95']:.0f}ms "
        f"max {1000 * r['beyond_max']:.0f}ms; reads {r['reads']:.0f}, missing {r['missing']:.0f}"
    )
    print(
        f"{'':>10}  server side (child, agents, sessions): {r['server_cpu'] / r['wall']:.2f} "
        f"cores of {os.cpu_count()}; host load average {os.getloadavg()[0]:.1f}"
    )


async def client(cfg: ClusterConfig, args: argparse.Namespace) -> None:
    stream = await streaming(cfg, args.seconds)
    show("streaming", stream)
    print(
        f"{'':>10}  connections opened: {stream['connects']:.0f}; samples delivered "
        f"{stream['samples']:.0f}; node-to-console lag p50 {1000 * stream['lag_p50']:.1f}ms "
        f"p95 {1000 * stream['lag_p95']:.1f}ms"
    )
    base = await baseline(cfg, args.seconds)
    show("ssh exec", base)
    print(
        f"{'':>10}  polls completed: {base['polls']:.0f} "
        f"(ideal {args.nodes * args.seconds / args.interval:.0f}), "
        f"failures {base['failures']:.0f}"
    )
    ratio = base["cpu"] / stream["cpu"] if stream["cpu"] > 0 else float("inf")
    per_base = base["cpu"] / max(1.0, base["samples"])
    per_stream = stream["cpu"] / max(1.0, stream["samples"])
    print(f"CPU ratio ssh-exec / streaming, same window: {ratio:.1f}x (goal >= 20x)")
    print(
        f"CPU per delivered sample: ssh exec {1000 * per_base:.2f}ms vs streaming "
        f"{1000 * per_stream:.3f}ms = {per_base / per_stream if per_stream else 0:.1f}x"
    )
    print(
        "staleness beyond the interval, p95: streaming "
        f"{1000 * stream['beyond_p95']:.0f}ms vs ssh exec "
        f"{1000 * base['beyond_p95']:.0f}ms (goal < 100ms)"
    )
    n = args.nodes
    emit(
        f"client CPU per delivered sample, {n} SSH nodes",
        round(1000 * per_stream, 3),
        unit="ms",
        baseline=round(1000 * per_base, 2),
        ratio=round(per_base / per_stream, 1) if per_stream else None,
        goal=">= 20x less than ssh exec",
        met=per_stream > 0 and per_base / per_stream >= 20,
        note=f"baseline: a fresh ssh exec per node per poll, {base['polls']:.0f} polls done",
    )
    emit(
        f"sample staleness beyond the interval, p95, {n} SSH nodes",
        round(1000 * stream["beyond_p95"], 1),
        unit="ms",
        baseline=round(1000 * base["beyond_p95"], 1),
        goal="< 100 ms",
        met=1000 * stream["beyond_p95"] < 100,
    )


def run_client(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="gridtui-fanout-") as tmp:
        child = subprocess.Popen(
            [sys.executable, __file__, "--serve", "--nodes", str(args.nodes), "--workdir", tmp],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert child.stdout is not None
            line = child.stdout.readline()
            if not line:
                raise SystemExit("the server process did not start")
            global SERVER_PID
            SERVER_PID = child.pid
            cfg = cluster_config(json.loads(line), args.interval)
            print(
                f"{args.nodes} asyncssh servers in child pid {child.pid}; interval "
                f"{args.interval:g}s; {args.seconds:g}s per approach"
            )
            asyncio.run(client(cfg, args))
        finally:
            if child.stdin is not None:
                child.stdin.close()  # the child's signal to stop its servers and agents
            try:
                child.wait(30)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--nodes", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--interval", type=float, default=1.0)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    quick_arg(parser)
    args = parser.parse_args()
    if args.quick and not args.serve:
        args.nodes, args.seconds = 20, 3.0
    if args.serve:
        asyncio.run(serve(args.nodes, Path(args.workdir)))
    else:
        run_client(args)


if __name__ == "__main__":
    main()
