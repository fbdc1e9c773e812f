"""The demo cluster as one module's test cluster, with a driver, the CLI and a probe."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from gridtui.agent import nodescript
from gridtui.config import ClusterConfig
from gridtui.services.cluster import demo
from gridtui.services.control.client import ControlClient
from gridtui.services.ray import auth as ray_auth
from gridtui.services.ray.gateway import RayGateway

T = TypeVar("T")
ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
AUTH_ENV = ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN_PATH", "RAY_AUTH_TOKEN")
DASHBOARD_ENV = demo.DASHBOARD_ENV


class BoostCluster:
    """The running demo (head, worker-1, worker-2: 1 CPU and 1 GiB each), an in-process
    driver for the controller's client, and subprocess helpers. Env set here (state and
    config dirs) is inherited by every subprocess; Ray's auth settings are not (the
    in-process driver sets them here): gridtui's commands and its Python API must find the
    demo's token themselves, and only the probes get it handed (`driver_env`). Ray's
    dashboard runs only when asked (`dashboard`): it costs each start ~5 s."""

    def __init__(self, base: Path, *, dashboard: bool = False) -> None:
        self.base = base
        self.work = base / "work"  # the cwd of subprocesses: no gridtui.yaml, no sources
        self.work.mkdir(parents=True, exist_ok=True)
        self.saved = {
            k: os.environ.get(k)
            for k in ("XDG_STATE_HOME", "XDG_CONFIG_HOME", "GRIDTUI_CONFIG", "PYTHONPATH",
                      DASHBOARD_ENV, *AUTH_ENV)
        }  # fmt: skip
        os.environ[DASHBOARD_ENV] = "on" if dashboard else "off"
        os.environ["XDG_STATE_HOME"] = str(base / "state")
        os.environ["XDG_CONFIG_HOME"] = str(base / "config")
        os.environ.pop("GRIDTUI_CONFIG", None)
        os.environ["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(ROOT), self.saved["PYTHONPATH"]) if p
        )
        self.config: ClusterConfig = asyncio.run(demo.ensure_demo_running())
        self.address = f"{self.config.head.host}:{self.config.ray.port}"
        self.gateway = RayGateway(self.config)
        asyncio.run(self.gateway.connect())
        self.control = ControlClient(self.config, owner="test")

    def drop_driver(self) -> None:
        """Disconnect this process's driver: one whose head dies and comes back as a new
        Ray cluster cannot be used again (`reconnect` after)."""
        asyncio.run(self.gateway.close())

    def reconnect(self) -> None:
        """A new in-process driver for the (restarted) demo."""
        self.gateway = RayGateway(self.config)
        asyncio.run(self.gateway.connect())

    def run(self, fn: Callable[[], T], timeout: float = 90) -> T:
        """Run on the driver's thread (every Ray call of the in-process driver goes there)."""
        return asyncio.run(self.gateway.call(fn, timeout))

    @staticmethod
    def user_env() -> dict[str, str]:
        """A user's shell: none of Ray's auth settings (this process's driver set them)."""
        return {k: v for k, v in os.environ.items() if k not in AUTH_ENV}

    def driver_env(self) -> dict[str, str]:
        """An independent driver of the demo: its token handed over, as `demo status --json`
        names it."""
        return ray_auth.driver_env(self.config, self.user_env())

    def cli(self, *args: str, timeout: float = 120) -> tuple[int, str, str]:
        proc = subprocess.run(
            [sys.executable, "-m", "gridtui", *args],
            cwd=self.work, capture_output=True, text=True, timeout=timeout, env=self.user_env(),
        )  # fmt: skip
        return proc.returncode, proc.stdout, proc.stderr

    def python(
        self, code: str, *args: str, timeout: float = 120, driver: bool = False
    ) -> subprocess.CompletedProcess[str]:
        """`python -c CODE`: a user's script (gridtui's API finds the token), or with
        `driver` a plain Ray driver given the token."""
        return subprocess.run(
            [sys.executable, "-c", code, *args],
            cwd=self.work, capture_output=True, text=True, timeout=timeout,
            env=self.driver_env() if driver else self.user_env(),
        )  # fmt: skip

    def probe(self) -> dict[str, Any]:
        """Ray's groups and per-node resources, seen by an independent driver process."""
        proc = subprocess.run(
            [sys.executable, str(HERE / "ray_probe.py"), self.address],
            cwd=self.work, capture_output=True, text=True, timeout=120, env=self.driver_env(),
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout.strip().splitlines()[-1])

    def groups(self) -> dict[str, dict[str, Any]]:
        """{name: entry} of live gridtui groups, read by the in-process driver."""

        def read() -> dict[str, dict[str, Any]]:
            from ray.util.placement_group import placement_group_table

            return {
                g["name"]: g
                for g in placement_group_table().values()
                if g["state"] != "REMOVED" and g["name"].startswith("gridtui:")
            }

        return self.run(read)

    def available(self) -> dict[str, dict[str, float]]:
        """{node name: available resources} by the in-process driver."""

        def read() -> dict[str, dict[str, float]]:
            from gridtui.actors.cluster import ray_nodes
            from gridtui.actors.ray_private import available_per_node

            free = available_per_node()
            return {n.name: free.get(n.node_id, {}) for n in ray_nodes().values() if n.alive}

        return self.run(read)

    def raylets(self, node: str) -> list[int]:
        """PIDs of the node's raylet: the process Ray's GCS asks to hold a group's bundle."""
        pids, _ = nodescript.find_pids([f"{self.config.ray.temp_dir}/{node}"])
        found = []
        for pid in pids:
            with contextlib.suppress(OSError):
                if Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].endswith(b"raylet"):
                    found.append(pid)
        return found

    @contextlib.contextmanager
    def stopped(self, node: str) -> Iterator[None]:
        """The node's raylet stopped (SIGSTOP): Ray cannot place a group there, and its GCS,
        which places one group at a time, holds every group asked after it. Always
        continued (SIGCONT) after, whatever happened."""
        pids = self.raylets(node)
        assert pids, f"no raylet found for {node}"
        try:
            for pid in pids:
                os.kill(pid, signal.SIGSTOP)
            yield
        finally:
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGCONT)

    def spawn(self, name: str, *args: str) -> Client:
        """The CLI in the background; its output goes to files read while it runs."""
        return Client(self, name, args)

    def until(self, what: str, check: Callable[[], T], seconds: float = 60.0) -> T:
        """Poll `check` until truthy; the bound only keeps a bug from hanging the suite."""
        deadline = time.monotonic() + seconds
        while True:
            found = check()
            if found:
                return found
            assert time.monotonic() < deadline, f"never: {what}"
            time.sleep(0.2)

    def markers(self) -> list[str]:
        return [f"{self.config.ray.temp_dir}/{n.name}" for n in self.config.nodes]

    def close(self) -> None:
        try:
            asyncio.run(self.gateway.close())
            asyncio.run(demo.stop_demo())
        finally:
            for pid in nodescript.find_pids(self.markers())[0]:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, 9)
            shutil.rmtree(str(self.config.ray.temp_dir), ignore_errors=True)
            for key, value in self.saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


class Client:
    """One CLI process of a test: started at once, signalled when the test says."""

    def __init__(self, cl: BoostCluster, name: str, args: tuple[str, ...]) -> None:
        self.out = cl.base / f"{name}.out"
        self.err = cl.base / f"{name}.err"
        with self.out.open("wb") as out, self.err.open("wb") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "gridtui", *args], cwd=cl.work, stdout=out, stderr=err
            )

    @property
    def owner(self) -> str:
        """How the controller names this client in its records (services/control.owner_tag)."""
        return f"(cli, pid {self.proc.pid})"

    def stdout(self) -> str:
        return self.out.read_text()

    def stderr(self) -> str:
        return self.err.read_text()

    def signal(self, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            self.proc.send_signal(sig)

    def wait(self, timeout: float = 60) -> int:
        return self.proc.wait(timeout)
