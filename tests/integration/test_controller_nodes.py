"""Nodes need only Python and Ray: the controller runs on raylets whose interpreter cannot
import gridtui, driven from a process that has it."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import ray
import yaml

from gridtui.agent import nodescript
from gridtui.config import ClusterConfig, parse_config
from gridtui.services.cluster.lifecycle import ClusterOps

pytestmark = pytest.mark.ray
ROOT = Path(__file__).resolve().parents[2]


def node_env(base: Path) -> Path:
    """A venv with no pip whose only extra path is a copy of this venv's site-packages
    without gridtui (symlinks to everything else: Ray and its dependencies)."""
    env = base / "nodeenv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env)], check=True)
    site = Path(ray.__file__).resolve().parents[1]
    clean = base / "raysite"
    clean.mkdir()
    for entry in site.iterdir():
        if "gridtui" not in entry.name:
            (clean / entry.name).symlink_to(entry)
    (next((env / "lib").glob("python3*")) / "site-packages" / "ray.pth").write_text(f"{clean}\n")
    return env / "bin" / "python"


def free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def bare_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path, Path]]:
    """(node python, cluster file, driver cwd): head + worker-1 run by that python."""
    base = tmp_path_factory.mktemp("nodeenv")
    python = node_env(base)
    work = base / "work"
    work.mkdir()
    temp = f"/tmp/gt-ne-{os.getpid()}"
    config_data = {
        "name": "bare",
        "nodes": [
            {"name": name, "host": host, "transport": "local", "python": str(python),
             "role": role, "resources": {"cpu": 1, "memory": 1024**3,
                                         "object_store_memory": 256 * 1024**2}}
            for name, host, role in (("head", "127.0.0.2", "head"),
                                     ("worker-1", "127.0.0.3", "worker"))
        ],
        "ray": {"port": free_port("127.0.0.2"), "temp_dir": temp, "include_dashboard": False},
    }  # fmt: skip
    path = base / "bare.yaml"
    path.write_text(yaml.safe_dump(config_data))
    config: ClusterConfig = parse_config(path.read_text(), str(path))
    saved = os.environ.pop("PYTHONPATH", None)  # the raylets inherit no path to gridtui
    # The cluster's Ray token goes to (and its driver finds it in) a state dir of its own.
    state = os.environ.get("XDG_STATE_HOME")
    os.environ["XDG_STATE_HOME"] = str(base / "state")
    cwd = os.getcwd()
    os.chdir(work)
    try:
        report = asyncio.run(_start(config))
        assert report, "the bare cluster did not start"
    finally:
        os.chdir(cwd)
        if saved is not None:
            os.environ["PYTHONPATH"] = saved
    try:
        yield python, path, work
    finally:
        asyncio.run(_stop(config))
        if state is None:
            os.environ.pop("XDG_STATE_HOME", None)
        else:
            os.environ["XDG_STATE_HOME"] = state
        for pid in nodescript.find_pids([f"{temp}/{n.name}" for n in config.nodes])[0]:
            os.kill(pid, 9)
        shutil.rmtree(temp, ignore_errors=True)


async def _start(config: ClusterConfig) -> bool:
    async with ClusterOps(config, lean=True, join_timeout=30) as ops:
        return (await ops.start(check=False)).ok


async def _stop(config: ClusterConfig) -> None:
    async with ClusterOps(config) as ops:
        await ops.stop(grace=2.0)


DRIVER = """
import json, sys
import ray
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy
from gridtui import client

grid = client.connect(sys.argv[1])

@ray.remote(num_cpus=0)
def node_side():
    import importlib.util, sys
    return {"python": sys.executable, "gridtui": importlib.util.find_spec("gridtui") is not None,
            "node_id": ray.get_runtime_context().get_node_id()}

views = {v.name: v for v in grid.control.node_views()}
probes = {name: ray.get(node_side.options(
    scheduling_strategy=NodeAffinitySchedulingStrategy(v.node_id, soft=False)).remote())
    for name, v in views.items()}
boost = grid.boost("worker-1", "cpu", 1, ttl="5m")
inside = ray.get(node_side.options(**boost.options()).remote())
info = grid.control.info()
released = grid.release(boost).reservation.state
print(json.dumps({"probes": probes, "boost": boost.to_json(), "inside": inside,
                  "controller": info.__dict__, "released": released}))
"""


def test_the_controller_runs_where_gridtui_cannot_be_imported(
    bare_cluster: tuple[Path, Path, Path],
) -> None:
    python, path, work = bare_cluster
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    found = subprocess.run(
        [str(python), "-c", "import gridtui"], env=env, capture_output=True, text=True, cwd=work
    )
    assert found.returncode == 1 and "No module named 'gridtui'" in found.stderr
    assert subprocess.run([str(python), "-c", "import ray"], env=env, cwd=work).returncode == 0

    driver = subprocess.run(
        [sys.executable, "-c", DRIVER, str(path)],
        env={**env, "PYTHONPATH": str(ROOT)}, cwd=work, capture_output=True, text=True,
        timeout=180,
    )  # fmt: skip
    assert driver.returncode == 0, driver.stderr
    out = json.loads(driver.stdout.strip().splitlines()[-1])
    for probe in out["probes"].values():
        assert probe == {**probe, "python": str(python), "gridtui": False}
    assert out["boost"]["state"] == "active" and out["boost"]["node"] == "worker-1"
    assert out["inside"]["node_id"] == out["probes"]["worker-1"]["node_id"]
    assert out["inside"]["gridtui"] is False
    controller = out["controller"]
    assert controller["node_id"] == out["probes"]["head"]["node_id"]
    assert controller["python"] == str(python) and controller["gridtui_installed"] is False
    assert out["released"] == "released"
