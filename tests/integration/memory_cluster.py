"""A local three-raylet cluster (127.0.0.2-4) with object stores sized by the caller."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import sys
import uuid
from pathlib import Path

import yaml

from gridtui.agent import nodescript
from gridtui.config import ClusterConfig
from gridtui.services.cluster.lifecycle import ClusterOps
from gridtui.services.ray import auth as ray_auth

NODES = (("head", "127.0.0.2"), ("worker-1", "127.0.0.3"), ("worker-2", "127.0.0.4"))
# The GCS declares a killed raylet dead after period x threshold instead of ~12 s: the
# node-death tests wait for that verdict.
FAST_DEATH = {"RAY_health_check_period_ms": "500", "RAY_health_check_failure_threshold": "4"}
# Token auth, as gridtui starts every cluster: the token lives in this cluster's own state
# dir (XDG_STATE_HOME, set for the process while it runs, so the CLI runs it spawns find
# it), and in-process drivers take it from `use_here`, subprocess ones from `driver_env`.


def free_port(host: str = "127.0.0.2", start: int = 6420) -> int:
    for port in range(start, start + 100):
        with socket.socket() as s:
            try:
                s.bind((host, port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port")


def cluster_data(store: int, *, capacity: float = 0.5, cpu: int = 1) -> dict:
    temp = f"/tmp/gm-{uuid.uuid4().hex[:8]}"
    return {
        "name": "memtest",
        "sample_interval": 1.0,
        "nodes": [
            {
                "name": name,
                "host": host,
                "transport": "local",
                "python": sys.executable,
                "role": "head" if i == 0 else "worker",
                "sample_scope": "ray-processes",
                "resources": {"cpu": cpu, "object_store_memory": store},
            }
            for i, (name, host) in enumerate(NODES)
        ],
        "ray": {
            "port": free_port(),
            "temp_dir": temp,
            "store_capacity": capacity,
            # No job or state API test here: without the dashboard it starts ~5 s sooner.
            "include_dashboard": False,
        },
    }


class LocalCluster:
    """Start with `await start()`, stop with `await stop()`; `path` is its cluster file."""

    def __init__(self, directory: Path, store: int, *, capacity: float = 0.5) -> None:
        self.data = cluster_data(store, capacity=capacity)
        self.config = ClusterConfig.model_validate(self.data)
        self.path = directory / "cluster.yaml"
        self.path.write_text(yaml.safe_dump(self.data))
        self.state = directory / "state"
        self._saved_state: str | None = None

    def driver_env(self) -> dict[str, str]:
        """The environment of an independent driver process of this cluster."""
        return ray_auth.driver_env(self.config)

    def use_here(self) -> None:
        """Make this process a driver of this cluster (before its own ray.init)."""
        ray_auth.use_here(self.config)

    @property
    def address(self) -> str:
        return f"{self.config.head.host}:{self.config.ray.port}"

    def marker(self, node: str) -> str:
        return f"{self.config.ray.temp_dir}/{node}"

    async def start(self) -> None:
        os.environ.update(FAST_DEATH)
        self._saved_state = os.environ.get("XDG_STATE_HOME")
        os.environ["XDG_STATE_HOME"] = str(self.state)
        async with ClusterOps(self.config, lean=True, join_timeout=60) as ops:
            report = await ops.start(check=False)
        if not report.ok:
            await self.stop()
            raise RuntimeError(f"test cluster did not start: {report}")

    def kill_raylet(self, node: str) -> int:
        """SIGKILL the node's raylet (its workers follow it); returns the raylet's pid."""
        pids, table = nodescript.find_pids([self.marker(node)])
        raylets = [p for p in pids if any("raylet" in a for a in table[p][3][:1])]
        assert raylets, f"no raylet for {node}"
        for pid in raylets:
            os.kill(pid, signal.SIGKILL)
        return raylets[0]

    async def stop(self) -> None:
        with contextlib.suppress(Exception):
            async with ClusterOps(self.config, lean=True) as ops:
                await ops.stop(grace=2.0)
        markers = [self.marker(n) for n, _ in NODES]
        for _ in range(20):
            pids, _ = nodescript.find_pids(markers)
            if not pids:
                break
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            await asyncio.sleep(0.2)
        shutil.rmtree(str(self.config.ray.temp_dir), ignore_errors=True)
        if self._saved_state is None:
            os.environ.pop("XDG_STATE_HOME", None)
        else:
            os.environ["XDG_STATE_HOME"] = self._saved_state
