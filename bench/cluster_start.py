"""Bench: `cluster start` for 3 SSH nodes vs the same `ray start` commands typed in sequence.

Run: .venv/bin/python bench/cluster_start.py [--rounds 2] (starts Ray: under the Ray slot)"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "integration"))

from _report import emit, quick_arg
from sshd import SshCluster

from gridtui.config import ClusterConfig
from gridtui.services.cluster import node_commands as commands
from gridtui.services.cluster.lifecycle import ClusterOps
from gridtui.services.cluster.procs import stop_node
from gridtui.transport.ssh import SshTransport


def make_config(servers: SshCluster, port: int) -> ClusterConfig:
    data = yaml.safe_load(servers.config_yaml(python=sys.executable))
    data["ray"] = {"port": port, "temp_dir": f"/tmp/gb-{uuid.uuid4().hex[:8]}"}
    for node in data["nodes"]:
        node["resources"] = {"cpu": 1, "object_store_memory": "128MiB"}
    return ClusterConfig.model_validate(data)


async def stop_all(config: ClusterConfig, transports: dict[str, SshTransport]) -> None:
    await asyncio.gather(*(stop_node(transports[n.name], n, config, 2) for n in config.nodes))


async def by_gridtui(config: ClusterConfig, transports: dict[str, SshTransport]) -> float:
    t0 = time.perf_counter()
    async with ClusterOps(config, transports) as ops:
        report = await ops.start()
    elapsed = time.perf_counter() - t0
    assert report.ok, report
    return elapsed


async def by_hand(config: ClusterConfig, transports: dict[str, SshTransport]) -> float:
    """What a person does: ssh to each node in turn and run `ray start` (setsid stands in
    for a real sshd, which does not end a finished command's process group). No token: a
    person copying one to each node first would only add to this side's time."""
    t0 = time.perf_counter()
    for node in config.nodes:
        start = commands.manual_start_argv(node, config, head=node is config.head)
        argv = ["setsid", "env", "RAY_AUTH_MODE=disabled", *start]
        result = await transports[node.name].run(argv, timeout=120)
        assert result.ok, result.stderr[-500:]
    return time.perf_counter() - t0


async def main(rounds: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["XDG_STATE_HOME"] = tmp  # gridtui's side makes its Ray token here
        servers = SshCluster(Path(tmp), ["127.0.0.2", "127.0.0.3", "127.0.0.4"])
        await servers.start()
        try:
            rows = []
            for round_ in range(rounds):
                for name, fn in (("gridtui", by_gridtui), ("by hand", by_hand)):
                    config = make_config(servers, 6395)
                    transports = {n.name: SshTransport(n, config.ssh) for n in config.nodes}
                    try:
                        rows.append((round_, name, await fn(config, transports)))
                    finally:
                        await stop_all(config, transports)
                        for t in transports.values():
                            await t.close()
            for round_, name, secs in rows:
                print(f"round {round_}  {name:<8} {secs:6.2f}s")
            ours = min(s for _, n, s in rows if n == "gridtui")
            theirs = min(s for _, n, s in rows if n == "by hand")
            print(
                f"gridtui cluster start (3 nodes, with version check and join verify): {ours:.2f}s"
            )
            print(
                f"ray start by hand in sequence over SSH:                            {theirs:.2f}s"
            )
            print(f"ratio by-hand / gridtui: {theirs / ours:.2f}x")
            emit(
                "`cluster start`, 3 SSH nodes (with version check and join verify)",
                round(ours, 2),
                unit="s",
                baseline=round(theirs, 2),
                ratio=round(ours / theirs, 2),
                goal="no slower than by hand (<= 1.05x)",
                met=ours <= theirs * 1.05,
                note=f"best of {rounds}; baseline: the same `ray start`s by hand, in sequence",
            )
        finally:
            await servers.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=2)
    quick_arg(parser)
    args = parser.parse_args()
    asyncio.run(main(1 if args.quick else args.rounds))
