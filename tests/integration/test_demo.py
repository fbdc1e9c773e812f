"""The embedded demo: from nothing to three live nodes, real load on one, then nothing left."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
from pathlib import Path

import pytest

from gridtui.agent import nodescript
from gridtui.services import demo
from gridtui.services.agent_launch import agent_argv, agent_source
from gridtui.services.ray_gateway import RayGateway
from gridtui.transport.local import LocalTransport

pytestmark = pytest.mark.ray


async def cli(*args: str, timeout: float = 120) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gridtui", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), timeout)
    return proc.returncode or 0, out.decode(), err.decode()


async def ray_status(address: str) -> str:
    """`ray status` once its monitor has published (it says "No cluster status" until then)."""
    for _ in range(60):
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "ray.scripts.scripts", "status", "--address", address,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        out = (await asyncio.wait_for(proc.communicate(), 120))[0].decode()
        if proc.returncode == 0 and "Active:" in out:
            return out
        await asyncio.sleep(1)
    raise AssertionError(f"ray status never showed the cluster:\n{out}")


async def cpu_samples(node_name: str, count: int) -> list[float]:
    """The agent in ray-processes scope for one demo node, as the console runs it."""
    node = demo.demo_config().node(node_name)
    stream = await LocalTransport(node).open_stream(
        [*agent_argv(node, 0.5, demo.demo_config()), "--count", str(count)],
        input=agent_source(),
    )
    out = []
    try:
        async for line in stream:
            if line.startswith("{"):
                out.append(float(json.loads(line)["cpu"]))
    finally:
        await stream.close()
    return out


async def test_demo_from_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("GRIDTUI_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)  # no ./gridtui.yaml: the commands fall back on the demo
    config = demo.demo_config()
    markers = [f"{config.ray.temp_dir}/{n.name}" for n in config.nodes]
    try:
        code, out, err = await cli("demo", "start")
        assert code == 0, err
        state = json.loads((tmp_path / "state/gridtui/demo/state.json").read_text())
        assert state["port"] == config.ray.port and set(state["temp_dirs"]) == {
            "head",
            "worker-1",
            "worker-2",
        }

        address = f"{config.head.host}:{config.ray.port}"
        assert f"`ray status --address {address}`" in out

        code, out, _ = await cli("demo", "status", "--json")
        status = json.loads(out)
        assert code == 0 and status["healthy"]
        for node in status["nodes"]:  # every figure known on a healthy cluster
            assert node["problem"] == "" and node["processes"] > 0, node
            assert node["cpu_total"] == 1 and node["store_total"] == demo.DEMO_STORE, node

        # No cluster file anywhere: `cluster status` acts on the running demo and says so.
        code, out, err = await cli("cluster", "status", "--json")
        assert code == 0, err
        assert "acting on the local demo cluster" in err
        assert {n["name"] for n in json.loads(out)["nodes"]} == {"head", "worker-1", "worker-2"}

        # Ray's own tool: the autoscaler monitor publishes what it prints.
        assert "0.0/3.0 CPU" in await ray_status(address)

        # Attaching is idempotent: a second start finds it healthy and starts nothing.
        assert await demo.ensure_demo_running() == config

        gateway = RayGateway(config)
        try:
            await gateway.connect()
            nodes = await gateway.nodes()
        finally:
            await gateway.close()
        assert sorted(nodes) == ["head", "worker-1", "worker-2"]
        assert all(n.alive and n.cpu_total == 1 for n in nodes.values())
        assert nodes["worker-2"].object_store_total == demo.DEMO_STORE

        idle = await cpu_samples("worker-1", 4)
        load = asyncio.create_task(
            cli("demo", "load", "--node", "worker-1", "--cpu", "1", "--memory", "64MiB",
                "--seconds", "8")
        )  # fmt: skip
        await asyncio.sleep(3)  # the driver connects and the task starts
        busy = await cpu_samples("worker-1", 6)
        other = await cpu_samples("worker-2", 3)
        code, out, err = await load
        assert code == 0, err
        assert "1 load tasks finished" in out
        assert max(idle[1:]) < 30, idle
        assert max(busy[1:]) > 40, busy  # one busy process; idle stays under 30 (2 shared cores)
        assert max(other[1:]) < 30, other

        code, _, err = await cli("demo", "stop")
        assert code == 0, err
        assert nodescript.find_pids(markers)[0] == set()
    finally:
        pids, _ = nodescript.find_pids(markers)
        for pid in pids:
            os.kill(pid, 9)
        shutil.rmtree(str(config.ray.temp_dir), ignore_errors=True)
