"""End to end over real SSH: gridtui starts a 3-node Ray cluster, reads it, and stops only it."""

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
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml
from sshd import SshCluster

from gridtui.agent import nodescript
from gridtui.config import ClusterConfig
from gridtui.services.lifecycle import ClusterOps

pytestmark = pytest.mark.ray

NODES_SCRIPT = """
import json, sys, ray
ray.init(address=sys.argv[1], _node_ip_address=sys.argv[1].split(":")[0], log_to_driver=False,
         logging_level="ERROR")
print(json.dumps([{"alive": n["Alive"], "labels": n["Labels"], "resources": n["Resources"]}
                  for n in ray.nodes()]))
"""


def ssh_ray_config(servers: SshCluster, temp_root: str, port: int) -> dict[str, Any]:
    data = yaml.safe_load(servers.config_yaml(python=sys.executable))
    data["ray"] = {"port": port, "temp_dir": temp_root}
    for i, node in enumerate(data["nodes"]):
        node["resources"] = {
            "cpu": 1,
            "memory": "1GiB",
            "object_store_memory": "128MiB",
            "custom": {f"slot{i}": 2},
        }
    return data


def start_unrelated(temp_dir: str, port: int) -> None:
    """Another Ray cluster on this host (127.0.0.5): gridtui must leave it alone."""
    subprocess.run(
        [
            sys.executable, "-m", "ray.scripts.scripts", "start", "--head",
            "--node-ip-address=127.0.0.5", f"--port={port}", "--num-cpus=1",
            f"--temp-dir={temp_dir}", "--object-store-memory=134217728",
            "--include-dashboard=false", "--disable-usage-stats", "--no-monitor",
            "--include-log-monitor=false",
        ],
        check=True, capture_output=True, start_new_session=True, timeout=90,
        # As gridtui's own starts: a stray ~/.ray/auth_token must not turn token auth on.
        env={**os.environ, "RAY_AUTH_MODE": "disabled"},
    )  # fmt: skip


def kill_by_marker(marker: str) -> None:
    pids, _ = nodescript.find_pids([marker])
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            with contextlib.suppress(OSError):
                os.kill(pid, sig)
        time.sleep(2)


async def cli(*args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gridtui", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    return proc.returncode or 0, out.decode(), err.decode()


async def ray_nodes(address: str) -> list[dict[str, Any]]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", NODES_SCRIPT, address,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    lines = out.decode().strip().splitlines()
    assert lines, err.decode()[-3000:]
    return list(json.loads(lines[-1]))


async def test_cluster_over_ssh_start_status_stop(ssh_servers: SshCluster, tmp_path: Path) -> None:
    temp_root = f"/tmp/gt-{uuid.uuid4().hex[:8]}"
    other = f"/tmp/gt-{uuid.uuid4().hex[:8]}-other"
    data = ssh_ray_config(ssh_servers, temp_root, port=6393)
    config = ClusterConfig.model_validate(data)
    path = tmp_path / "cluster.yaml"
    path.write_text(yaml.safe_dump(data))
    start_unrelated(other, 6394)
    try:
        code, out, err = await cli("cluster", "start", "-c", str(path))
        assert code == 0, err
        assert "3 nodes in Ray" in out

        nodes = [n for n in await ray_nodes("127.0.0.2:6393") if n["alive"]]
        by_name = {n["labels"]["gridtui.node"]: n["resources"] for n in nodes}
        assert sorted(by_name) == ["n1", "n2", "n3"]
        for i, name in enumerate(("n1", "n2", "n3")):
            res = by_name[name]
            assert res["CPU"] == 1 and res[f"slot{i}"] == 2
            assert res["memory"] == 1024**3 and res["object_store_memory"] == 128 * 1024**2

        code, out, err = await cli("cluster", "status", "--json", "-c", str(path))
        status = json.loads(out)
        assert code == 0 and status["healthy"], out + err
        rows = {r["name"]: r for r in status["nodes"]}
        assert all(r["ray_state"] == "ALIVE" and r["reachable"] for r in rows.values())
        assert rows["n2"]["cpu_total"] == 1 and rows["n3"]["store_total"] == 128 * 1024**2

        # A second start finds everything running and starts nothing twice.
        async with ClusterOps(config) as ops:
            again = await ops.start(check=False)
            assert sorted(again.already_running) == ["n1", "n2", "n3"] and again.ok
            logs = await ops.logs("n2", 5)
            assert "gridtui-start.log" in logs

        code, _, err = await cli("cluster", "stop", "--node", "n3", "-c", str(path))
        assert code == 0, err
        assert nodescript.find_pids([f"{temp_root}/n3"])[0] == set()
        assert nodescript.find_pids([f"{temp_root}/n1"])[0]

        code, _, err = await cli("cluster", "stop", "-c", str(path))
        assert code == 0, err
        markers = [f"{temp_root}/{n}" for n in ("n1", "n2", "n3")]
        assert nodescript.find_pids(markers)[0] == set()

        code, out, _ = await cli("cluster", "status", "-c", str(path))
        assert code == 1 and "NOT healthy" in out
        # Reached over SSH, Ray gone: what only Ray could say is unknown (null), not 0.
        code, out, _ = await cli("cluster", "status", "--json", "-c", str(path))
        rows = {r["name"]: r for r in json.loads(out)["nodes"]}
        assert code == 1 and all(r["reachable"] and r["processes"] == 0 for r in rows.values())
        assert all(r["cpu_total"] is None and r["store_used"] is None for r in rows.values())

        # The unrelated cluster on the same host is still alive and answering.
        survivors = [n for n in await ray_nodes("127.0.0.5:6394") if n["alive"]]
        assert len(survivors) == 1
    finally:
        kill_by_marker(temp_root)
        kill_by_marker(other)
        shutil.rmtree(temp_root, ignore_errors=True)
        shutil.rmtree(other, ignore_errors=True)
