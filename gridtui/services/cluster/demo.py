"""The embedded demo cluster: a head and two workers as separate raylets on 127.0.0.2-4."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import signal
import socket
import sys
import time
from pathlib import Path
from typing import Any

from gridtui import paths
from gridtui.config import ClusterConfig
from gridtui.outfile import write_file
from gridtui.services.cluster.lifecycle import ClusterError, ClusterOps, Progress, describe_failures
from gridtui.services.cluster.node_commands import DASHBOARD_HOST, MAX_TEMP_DIR, gcs_address
from gridtui.services.cluster.procs import StopResult
from gridtui.services.cluster.status import ClusterStatus
from gridtui.services.ray import auth as ray_auth

DEMO_NODES = (("head", "127.0.0.2"), ("worker-1", "127.0.0.3"), ("worker-2", "127.0.0.4"))
DEMO_CPU = 1
DEMO_MEMORY = 1024**3
DEMO_STORE = 256 * 1024**2
DEFAULT_PORT = 6391
# Ray's dashboard (its job server) listens on the head's loopback, 127.0.0.1, whatever the
# node's address: shared by every cluster on this machine, so the demo picks its own port.
DEFAULT_DASHBOARD_PORT = 8275
DEFAULT_AGENT_PORT = 52400
# Ray's client server: above Ray's worker ports (10002-19999), which its default 10001 abuts.
DEFAULT_CLIENT_PORT = 20001
DASHBOARD_ENV = "GRIDTUI_DEMO_DASHBOARD"
"""`off` starts the demo without Ray's dashboard: no job server or state API (`gridtui job`,
`work`, `groups` say so), ~5 s quicker to start and lighter (docs/work.md). The test suite
sets it for every demo but the one that tests jobs. Read by every gridtui process that
builds the demo's config, so set it alike for all of them."""


def demo_dashboard() -> bool:
    """Whether the demo runs Ray's dashboard (on unless GRIDTUI_DEMO_DASHBOARD says off)."""
    return os.environ.get(DASHBOARD_ENV, "").strip().lower() not in ("off", "0", "false", "no")


def demo_dir() -> Path:
    return paths.state_dir() / "demo"


def state_file() -> Path:
    return demo_dir() / "state.json"


def read_state() -> dict[str, Any]:
    try:
        data = json.loads(state_file().read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def write_state(data: dict[str, Any]) -> None:
    demo_dir().mkdir(parents=True, exist_ok=True)
    write_file(state_file(), json.dumps(data, indent=2))


def ray_root() -> str:
    """Ray temp dirs live in the state dir when its path is short enough for Ray's sockets;
    else in a short /tmp path derived from it (so two state dirs never share one)."""
    preferred = demo_dir() / "ray"
    longest = max(len(name) for name, _ in DEMO_NODES)
    if len(str(preferred)) + 1 + longest <= MAX_TEMP_DIR:
        return str(preferred)
    digest = hashlib.sha1(str(preferred).encode()).hexdigest()[:10]
    return f"/tmp/gridtui-demo-{digest}"


def _port_free(port: int, host: str = DEMO_NODES[0][1]) -> bool:
    with socket.socket() as s:
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def _choose_port(first: int = DEFAULT_PORT, host: str = DEMO_NODES[0][1]) -> int:
    for port in range(first, first + 50):
        if _port_free(port, host):
            return port
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _choose_span(first: int, count: int) -> int:
    """The first of `count` consecutive ports free on every address (dashboard agents)."""
    for base in range(first, first + 200, count):
        if all(_port_free(p, "") for p in range(base, base + count)):
            return base
    return first


def demo_config() -> ClusterConfig:
    """The demo's ClusterConfig (demo=True); its GCS port is chosen once and remembered."""
    state = read_state()
    port = state.get("port")
    if not isinstance(port, int):
        port = _choose_port()
        state = {**state, "port": port}
        write_state(state)
    dashboard = state.get("dashboard_port")
    agents = state.get("agent_port")
    if not isinstance(dashboard, int) or not isinstance(agents, int):
        dashboard = _choose_port(DEFAULT_DASHBOARD_PORT, DASHBOARD_HOST)
        agents = _choose_span(DEFAULT_AGENT_PORT, len(DEMO_NODES))
        state = {**state, "dashboard_port": dashboard, "agent_port": agents}
        write_state(state)
    client = state.get("client_port")
    if not isinstance(client, int):
        client = _choose_port(DEFAULT_CLIENT_PORT)
        write_state({**state, "client_port": client})
    nodes = [
        {
            "name": name,
            "host": host,
            "transport": "local",
            "python": sys.executable,
            "role": "head" if i == 0 else "worker",
            "sample_scope": "ray-processes",
            "resources": {
                "cpu": DEMO_CPU,
                "memory": DEMO_MEMORY,
                "object_store_memory": DEMO_STORE,
            },
        }
        for i, (name, host) in enumerate(DEMO_NODES)
    ]
    return ClusterConfig.model_validate(
        {
            "name": "demo",
            "demo": True,
            "sample_interval": 1.0,
            "nodes": nodes,
            "ray": {
                "port": port,
                "temp_dir": ray_root(),
                "include_dashboard": demo_dashboard(),
                "dashboard_port": dashboard,
                "dashboard_agent_port": agents,
                "client_server_port": client,
            },
        }
    )


def demo_ops(config: ClusterConfig | None = None, progress: Progress | None = None) -> ClusterOps:
    # Lean: no autoscaler monitor, no log monitors; the demo is fixed and prints no worker logs.
    return ClusterOps(config or demo_config(), progress=progress, lean=True, join_timeout=30)


def _gcs_open(config: ClusterConfig) -> bool:
    with (
        contextlib.suppress(OSError),
        socket.create_connection((config.head.host, config.ray.port), timeout=0.5),
    ):
        return True
    return False


async def ensure_demo_running(progress: Progress | None = None) -> ClusterConfig:
    """Attach to the demo cluster when its three nodes are alive, else (re)start it."""
    config = demo_config()
    async with demo_ops(config, progress) as ops:
        stale = not _gcs_open(config)
        if not stale:
            with contextlib.suppress(Exception):
                status = await ops.status()
                if status.healthy:
                    return config
                # A demo started without token auth (by an older gridtui, say) is restarted
                # with it rather than left open on its ports.
                stale = any(r.ray_auth not in (None, "token") for r in status.rows)
        if stale:
            # Leftovers of a crashed demo (a raylet whose GCS is gone) would block the start.
            await ops.stop(grace=2.0)
        report = await ops.start(check=False)
        if not report.ok:
            await ops.stop(grace=2.0)
            raise ClusterError("the demo cluster did not start", describe_failures(report))
        procs = await ops.status()
    write_state(
        {
            **read_state(),
            "started": time.time(),
            "temp_dirs": {n.name: f"{config.ray.temp_dir}/{n.name}" for n in config.nodes},
            "processes": {r.name: r.processes for r in procs.rows},
            "console_pid": os.getpid(),
            # For an independent driver: RAY_AUTH_MODE=token RAY_AUTH_TOKEN_PATH=this file.
            "ray_auth": config.ray.auth,
            "ray_auth_token_file": str(ray_auth.token_file(config)),
        }
    )
    return config


async def rotate_demo_token(progress: Progress | None = None) -> ClusterConfig:
    """A new token for the demo: every node stopped, then started again with it."""
    await stop_demo(progress)
    ray_auth.new_token(demo_config())
    return await ensure_demo_running(progress)


async def demo_status() -> ClusterStatus:
    async with demo_ops() as ops:
        return await ops.status()


def _kill_leftovers(markers: list[str], gcs: str) -> None:
    from gridtui.agent import nodescript

    for pid in nodescript.find_pids(markers, gcs=[gcs])[0]:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)


async def stop_demo(progress: Progress | None = None) -> list[StopResult]:
    """Tear the demo down by PID (only processes under its temp dirs) and forget its pids."""
    async with demo_ops(progress=progress) as ops:
        results = await ops.stop(grace=3.0)
    # The demo always lives on this machine: check for ourselves that nothing under its
    # temp dirs survived (a process started while the stop was scanning, say).
    config = demo_config()
    markers = [f"{config.ray.temp_dir}/{n.name}" for n in config.nodes]
    await asyncio.to_thread(_kill_leftovers, markers, gcs_address(config))
    state = read_state()
    for key in ("started", "processes", "console_pid"):
        state.pop(key, None)
    write_state(state)
    return results
