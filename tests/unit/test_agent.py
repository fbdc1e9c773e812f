"""The node agent run for real, as it runs on nodes: source on stdin, JSON lines out."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from gridtui.config import NodeConfig
from gridtui.model.nodes import NodeSample
from gridtui.services.agent_launch import agent_argv, agent_source

FAKE_NVML = Path(__file__).resolve().parents[1] / "fakes" / "nvml"


def run_agent(*extra: str, env: dict[str, str] | None = None, isolated: bool = False) -> list[dict]:
    argv = [sys.executable, *(["-S"] if isolated else []), "-u", "-", "--interval", "0.2"]
    proc = subprocess.run(
        [*argv, "--count", "3", *extra],
        input=agent_source(),
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, **(env or {})},
        check=True,
    )
    return [json.loads(line) for line in proc.stdout.splitlines()]


def test_streams_one_line_per_interval_with_every_field() -> None:
    lines = run_agent()
    assert [line["seq"] for line in lines] == [0, 1, 2]
    sample = NodeSample.from_agent(lines[-1], received=0.0)
    assert 0.0 <= sample.cpu_percent <= 100.0
    assert len(sample.cpu_per_core) == os.cpu_count()
    assert sample.mem_total > sample.mem_used > 0
    assert sample.disk_total > 0
    assert len(sample.load) == 3
    # No GPU here: a normal state, reported as an empty list.
    assert lines[-1]["gpus"] == [] and sample.gpu_percent is None


def test_without_psutil_reads_proc() -> None:
    # -S keeps site-packages (and so psutil) out of reach, as on a bare node.
    lines = run_agent(isolated=True)
    assert len(lines) == 3
    assert lines[-1]["mem"]["total"] > 0
    assert len(lines[-1]["cores"]) == os.cpu_count()


def test_gpus_through_nvml_when_present() -> None:
    lines = run_agent(env={"PYTHONPATH": str(FAKE_NVML)}, isolated=True)
    sample = NodeSample.from_agent(lines[-1], received=0.0)
    assert [g.name for g in sample.gpus] == ["Fake RTX 4090", "Fake A100"]
    assert sample.gpus[0].util_percent == 87.0
    assert sample.gpus[0].mem_percent == 50.0
    assert sample.gpus[1].temperature_c == 40.0
    assert sample.gpu_percent == 46.0


def test_ray_scope_argv_and_scope_field() -> None:
    node = NodeConfig(
        name="w1",
        host="127.0.0.3",
        python="/opt/py/bin/python3",
        sample_scope="ray-processes",
        transport="local",
        resources={"cpu": 2, "memory": "1GiB"},
    )
    argv = agent_argv(node, 0.5)
    assert argv[:5] == ["/opt/py/bin/python3", "-u", "-", "--interval", "0.5"]
    assert argv[5:] == [
        "--scope",
        "ray-processes",
        "--address",
        "127.0.0.3",
        "--cpus",
        "2",
        "--memory",
        str(1024**3),
    ]
    lines = run_agent(
        "--scope",
        "ray-processes",
        "--address",
        "127.0.0.77",
        "--cpus",
        "2",
        "--memory",
        str(1024**3),
    )
    # Nothing runs at that address: the node's own figures are zero against its capacity.
    assert lines[-1]["scope"] == "ray-processes"
    assert lines[-1]["cpu"] == 0.0
    assert lines[-1]["mem"] == {"total": 1024**3, "used": 0}
    assert lines[-1]["ray"]["processes"] == 0


def test_ray_scope_counts_a_process_tree_by_address() -> None:
    # A parent naming the address and its child: both belong to the node.
    script = "import subprocess,sys,time; c=subprocess.Popen([sys.executable,'-c','import time; time.sleep(30)']); time.sleep(30)"
    parent = subprocess.Popen([sys.executable, "-c", script, "--node-ip-address=127.0.0.78"])
    try:
        import time

        time.sleep(0.5)
        lines = run_agent("--scope", "ray-processes", "--address", "127.0.0.78")
        assert lines[-1]["ray"]["processes"] == 2
        assert lines[-1]["mem"]["used"] > 0
    finally:
        import psutil

        for child in psutil.Process(parent.pid).children(recursive=True):
            child.kill()
        parent.kill()
        parent.wait()


def test_home_relative_python_is_not_left_quoted() -> None:
    """A quoted `~` is never expanded by the remote shell: SSH commands start at home."""
    ssh = NodeConfig(name="a", host="h", python="~/venv/bin/python")
    local = NodeConfig(name="b", host="h", transport="local", python="~/venv/bin/python")
    assert agent_argv(ssh, 1.0)[0] == "venv/bin/python"
    assert agent_argv(local, 1.0)[0] == os.path.expanduser("~/venv/bin/python")


def test_ray_scope_keeps_its_tree_and_adds_new_pids_without_a_full_scan() -> None:
    from gridtui.agent import sampler

    scope = sampler.RayScope("127.0.0.79", 1.0, 1024**3)
    assert scope.scans == 1 and scope.tree == set()
    root = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(30)", "--node-ip-address=127.0.0.79"]
    )
    try:
        found = scope.pids()
        assert found == {root.pid}
        assert scope.scans == 1  # joined from the new PIDs alone, no second full scan
        root.kill()
        root.wait()
        assert root.pid not in scope.pids()
    finally:
        root.kill()
        root.wait()
    assert scope.pids(time.monotonic() + scope.RESCAN_SECONDS + 1) == set()
    assert scope.scans == 2
