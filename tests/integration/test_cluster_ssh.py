"""End to end over real SSH: gridtui starts a 3-node Ray cluster with token auth, reads it,
rotates its token, and stops only it."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import stat
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
from gridtui.services.cluster.lifecycle import ClusterOps
from gridtui.services.ray import auth as ray_auth

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
    # No job or state API test here: without the dashboard the cluster starts ~5 s sooner.
    data["ray"] = {"port": port, "temp_dir": temp_root, "include_dashboard": False}
    for i, node in enumerate(data["nodes"]):
        node["resources"] = {
            "cpu": 1,
            "memory": "1GiB",
            "object_store_memory": "128MiB",
            "custom": {f"slot{i}": 2},
        }
    return data


def start_unrelated(temp_dir: str, port: int, env: dict[str, str]) -> None:
    """Another Ray cluster on this host (127.0.0.5), with a token of its own: gridtui must
    leave it alone."""
    subprocess.run(
        [
            sys.executable, "-m", "ray.scripts.scripts", "start", "--head",
            "--node-ip-address=127.0.0.5", f"--port={port}", "--num-cpus=1",
            f"--temp-dir={temp_dir}", "--object-store-memory=134217728",
            "--include-dashboard=false", "--disable-usage-stats", "--no-monitor",
            "--include-log-monitor=false",
        ],
        check=True, capture_output=True, start_new_session=True, timeout=90, env=env,
    )  # fmt: skip


def token_env(path: Path, token: str) -> dict[str, str]:
    """A driver's environment holding `token` in a file of its own (mode 600)."""
    path.write_text(token)
    path.chmod(0o600)
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_AUTH_")}
    # A refused driver tries the GCS 20 times, a second apart; the verdict is the same in 2.
    return {**env, "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN_PATH": str(path),
            "RAY_gcs_server_port_wait_time_s": "2"}  # fmt: skip


def kill_by_marker(marker: str, gcs: tuple[str, ...] = ()) -> None:
    """SIGTERM what names the marker (and Ray's client server of a head at `gcs`: its argv
    names no temp dir), SIGKILL what is left 2 s later; no wait for none."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        pids, _ = nodescript.find_pids([marker], gcs=gcs)
        if not pids:
            return
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


async def drive(address: str, env: dict[str, str]) -> tuple[int, str, str]:
    """A Ray driver process of its own that lists Ray's nodes."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", NODES_SCRIPT, address,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), 90)
    return proc.returncode or 0, out.decode(), err.decode()


async def ray_nodes(address: str, env: dict[str, str]) -> list[dict[str, Any]]:
    _, out, err = await drive(address, env)
    lines = out.strip().splitlines()
    assert lines, err[-3000:]
    return list(json.loads(lines[-1]))


def read_private(path: str | Path) -> tuple[str, int]:
    """(text, permission bits) of a file."""
    return Path(path).read_text(), stat.S_IMODE(os.stat(path).st_mode)


def refusal(err: str) -> str:
    """Ray's own line saying why a driver was refused."""
    return next(line for line in err.splitlines() if "AuthenticationError" in line)


def files_holding(root: str, secret: str) -> list[str]:
    """Every file under `root` whose bytes contain `secret` (logs, session dirs...)."""
    found = []
    for dirpath, _, names in os.walk(root):
        for name in names:
            path = os.path.join(dirpath, name)
            with contextlib.suppress(OSError), open(path, "rb") as f:
                if secret.encode() in f.read():
                    found.append(path)
    return found


async def test_cluster_over_ssh_start_status_stop(
    ssh_servers: SshCluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))  # the Ray token's home
    temp_root = f"/tmp/gt-{uuid.uuid4().hex[:8]}"
    other = f"/tmp/gt-{uuid.uuid4().hex[:8]}-other"
    data = ssh_ray_config(ssh_servers, temp_root, port=6393)
    config = ClusterConfig.model_validate(data)
    path = tmp_path / "cluster.yaml"
    path.write_text(yaml.safe_dump(data))
    other_env = token_env(tmp_path / "other-token", "b" * 64)
    start_unrelated(other, 6394, other_env)
    try:
        code, out, err = await cli("cluster", "start", "-c", str(path))
        assert code == 0, err
        assert "3 nodes in Ray" in out

        # One token, private here and on every node; never on a command line or in a log.
        token = ray_auth.read_token(config)
        local = ray_auth.token_file(config)
        assert read_private(local) == (token, 0o600)
        for name in ("n1", "n2", "n3"):
            assert read_private(f"{temp_root}/{name}.ray-token") == (token, 0o600)
        commands = [c for s in ssh_servers.servers for c in s.commands]
        assert any(".ray-token" in c for c in commands)
        assert not any(token in c for c in commands) and token not in out + err
        # Ray's logs and session files name the path only; the token is in its files alone.
        assert sorted(files_holding(temp_root, token)) == [
            f"{temp_root}/{n}.ray-token" for n in ("n1", "n2", "n3")
        ]

        nodes = [
            n for n in await ray_nodes("127.0.0.2:6393", ray_auth.driver_env(config)) if n["alive"]
        ]
        by_name = {n["labels"]["gridtui.node"]: n["resources"] for n in nodes}
        assert sorted(by_name) == ["n1", "n2", "n3"]
        for i, name in enumerate(("n1", "n2", "n3")):
            res = by_name[name]
            assert res["CPU"] == 1 and res[f"slot{i}"] == 2
            assert res["memory"] == 1024**3 and res["object_store_memory"] == 128 * 1024**2

        code, out, err = await cli("cluster", "status", "--json", "-c", str(path))
        status = json.loads(out)
        assert code == 0 and status["healthy"], out + err
        assert status["ray_auth"] == "token" and status["ray_auth_token_file"] == str(local)
        rows = {r["name"]: r for r in status["nodes"]}
        assert all(r["ray_state"] == "ALIVE" and r["reachable"] for r in rows.values())
        assert all(r["ray_auth"] == "token" for r in rows.values())  # read from each raylet
        assert rows["n2"]["cpu_total"] == 1 and rows["n3"]["store_total"] == 128 * 1024**2

        # A second start finds everything running and starts nothing twice.
        async with ClusterOps(config) as ops:
            again = await ops.start(check=False)
            assert sorted(again.already_running) == ["n1", "n2", "n3"] and again.ok
            logs = await ops.logs("n2", 5)
            assert "gridtui-start.log" in logs

        # Rotation: a new token on every node, Ray restarted with it; the old one is refused.
        code, out, err = await cli("cluster", "rotate-token", "-c", str(path))
        assert code == 0, err
        assert f"new Ray token in {local}" in out
        new = ray_auth.read_token(config)
        assert new != token and read_private(f"{temp_root}/n3.ray-token") == (new, 0o600)
        old_env = token_env(tmp_path / "old-token", token)
        code, _, err = await drive("127.0.0.2:6393", old_env)
        assert code != 0 and "Authentication token is missing or incorrect" in err, err[-2000:]
        print(f"old token after rotate-token: {refusal(err)}")
        nodes = await ray_nodes("127.0.0.2:6393", token_env(tmp_path / "new-token", new))
        assert sorted(n["labels"]["gridtui.node"] for n in nodes if n["alive"]) == [
            "n1",
            "n2",
            "n3",
        ]

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

        # The unrelated cluster on the same host (its own token) is still alive and answering.
        survivors = [n for n in await ray_nodes("127.0.0.5:6394", other_env) if n["alive"]]
        assert len(survivors) == 1
    finally:
        kill_by_marker(temp_root)
        kill_by_marker(other, gcs=("127.0.0.5:6394",))
        shutil.rmtree(temp_root, ignore_errors=True)
        shutil.rmtree(other, ignore_errors=True)
