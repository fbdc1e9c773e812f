"""The embedded demo: from nothing to three live nodes with token auth, real load on one,
then nothing left."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import stat
import sys
from pathlib import Path

import pytest

from gridtui.agent import nodescript, procfs
from gridtui.services.cluster import demo
from gridtui.services.metrics.agent_launch import agent_argv, agent_source
from gridtui.services.ray import auth as ray_auth
from gridtui.services.ray.gateway import RayGateway
from gridtui.transport.local import LocalTransport

pytestmark = pytest.mark.ray


async def cli(
    *args: str, timeout: float = 120, env: dict[str, str] | None = None
) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gridtui", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), timeout)
    return proc.returncode or 0, out.decode(), err.decode()


DRIVER = """
import json, logging, sys, ray
address = sys.argv[1]
ray.init(address=address, _node_ip_address=address.split(":")[0], log_to_driver=False,
         logging_level=logging.ERROR, configure_logging=False)
alive = sorted(n["Labels"]["gridtui.node"] for n in ray.nodes() if n["Alive"])
print("connected; alive nodes: " + ", ".join(alive))
"""


def plain_env(home: Path) -> dict[str, str]:
    """A shell with nothing of Ray's auth: no variables, and a HOME with no ~/.ray."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_AUTH_")}
    # A refused driver tries the GCS 20 times, a second apart; the verdict is the same in 2.
    return {**env, "HOME": str(home), "RAY_gcs_server_port_wait_time_s": "2"}


async def driver(address: str, env: dict[str, str]) -> tuple[int, str, str]:
    """An independent Ray driver process: it lists the alive nodes, or fails."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", DRIVER, address,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    return proc.returncode or 0, out.decode(), err.decode()


async def ray_status(address: str, env: dict[str, str]) -> str:
    """`ray status` once its monitor has published (it says "No cluster status" until then)."""
    for _ in range(60):
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "ray.scripts.scripts", "status", "--address", address,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, env=env,
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


def client_servers(address: str) -> list[list[str]]:
    """The argv of every live Ray client server for the GCS at `address`, from /proc."""
    return [p[3] for p in procfs.proc_table().values() if procfs.serves_clients_of(p[3], address)]


async def test_demo_from_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("GRIDTUI_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)  # no ./gridtui.yaml: the commands fall back on the demo
    for key in ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN_PATH"):  # set by our driver: put back after
        monkeypatch.delenv(key, raising=False)
    config = demo.demo_config()
    markers = [f"{config.ray.temp_dir}/{n.name}" for n in config.nodes]
    try:
        # Ray state around it must not decide: a stray ~/.ray/auth_token (any local
        # ray.init() leaves one) and a token in the environment, both someone else's.
        stray = tmp_path / "home"
        (stray / ".ray").mkdir(parents=True)
        (stray / ".ray" / "auth_token").write_text("e" * 64)
        ambient = {**os.environ, "HOME": str(stray), "RAY_AUTH_TOKEN": "f" * 64}
        code, out, err = await cli("demo", "start", env=ambient)
        assert code == 0, err
        state = json.loads((tmp_path / "state/gridtui/demo/state.json").read_text())
        assert state["port"] == config.ray.port and set(state["temp_dirs"]) == {
            "head",
            "worker-1",
            "worker-2",
        }

        address = f"{config.head.host}:{config.ray.port}"
        token_file = state["ray_auth_token_file"]
        assert state["ray_auth"] == "token" and stat.S_IMODE(os.stat(token_file).st_mode) == 0o600
        # What to type for Ray's own tool: the token's path, never the token.
        hint = (
            f"`RAY_AUTH_MODE=token RAY_AUTH_TOKEN_PATH={token_file} ray status --address {address}`"
        )
        assert hint in out
        assert token_file == str(ray_auth.token_file(config))
        token = ray_auth.read_token(config)
        assert len(token) == 64 and token not in out + err

        code, out, _ = await cli("demo", "status", "--json")
        status = json.loads(out)
        assert code == 0 and status["healthy"]
        assert status["ray_auth"] == "token" and status["ray_auth_token_file"] == token_file
        assert {n["ray_auth"] for n in status["nodes"]} == {"token"}

        # An independent driver without the token is refused; pointed at the file that
        # `demo status --json` names, one connects and sees the three nodes.
        code, out, err = await driver(address, plain_env(tmp_path))
        assert code != 0 and "Authentication token is missing or incorrect" in err, err[-2000:]
        refused = next(ln for ln in err.splitlines() if "AuthenticationError" in ln)
        print(f"driver without the token: {refused}")
        with_token = {
            **plain_env(tmp_path), "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN_PATH": token_file,
        }  # fmt: skip
        code, out, err = await driver(address, with_token)
        assert code == 0, err[-2000:]
        assert out.strip() == "connected; alive nodes: head, worker-1, worker-2"
        print(f"driver with the token: {out.strip()}")
        for node in status["nodes"]:  # every figure known on a healthy cluster
            assert node["problem"] == "" and node["processes"] > 0, node
            assert node["cpu_total"] == 1 and node["store_total"] == demo.DEMO_STORE, node

        # No cluster file anywhere: `cluster status` acts on the running demo and says so.
        code, out, err = await cli("cluster", "status", "--json")
        assert code == 0, err
        assert "acting on the local demo cluster" in err
        assert {n["name"] for n in json.loads(out)["nodes"]} == {"head", "worker-1", "worker-2"}

        # Ray's own tool: the autoscaler monitor publishes what it prints.
        assert "0.0/3.0 CPU" in await ray_status(address, ray_auth.driver_env(config))

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

        # Ray's client server names the head's GCS address, not its temp dir: it runs on
        # the demo's own port, and the stop ends it too (it once outlived every cluster).
        servers = client_servers(address)
        assert [s for s in servers if f"--port={config.ray.client_server_port}" in s], servers
        code, _, err = await cli("demo", "stop")
        assert code == 0, err
        assert nodescript.find_pids(markers)[0] == set()
        assert client_servers(address) == []
    finally:
        pids, _ = nodescript.find_pids(markers, gcs=[f"{config.head.host}:{config.ray.port}"])
        for pid in pids:
            os.kill(pid, 9)
        shutil.rmtree(str(config.ray.temp_dir), ignore_errors=True)
