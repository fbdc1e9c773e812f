"""The node agent run for real, as it runs on nodes: source on stdin, JSON lines out."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from gridtui.config import ClusterConfig, NodeConfig
from gridtui.model.nodes import NodeSample
from gridtui.services.metrics.agent_launch import agent_argv, agent_source

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
    config = ClusterConfig.model_validate(
        {"name": "c", "nodes": [node.model_dump()], "ray": {"temp_dir": "/tmp/rt"}}
    )
    argv = agent_argv(node, 0.5, config)
    assert argv[:5] == ["/opt/py/bin/python3", "-u", "-", "--interval", "0.5"]
    assert argv[5:] == [
        "--scope",
        "ray-processes",
        "--node-root",
        "/tmp/rt",
        "--node-name",
        "w1",
        "--cpus",
        "2",
        "--memory",
        str(1024**3),
    ]
    lines = run_agent(
        "--scope",
        "ray-processes",
        "--node-root",
        "/tmp",
        "--node-name",
        "gridtui-no-such-node-dir",
        "--cpus",
        "2",
        "--memory",
        str(1024**3),
    )
    # Nothing names that directory: the node's own figures are zero against its capacity
    # (the agent names it itself, and does not count itself).
    assert lines[-1]["scope"] == "ray-processes"
    assert lines[-1]["cpu"] == 0.0
    assert lines[-1]["mem"] == {"total": 1024**3, "used": 0}
    assert lines[-1]["ray"]["processes"] == 0


def _kill_tree(parent: subprocess.Popen[bytes]) -> None:
    import psutil

    for child in psutil.Process(parent.pid).children(recursive=True):
        child.kill()
    parent.kill()
    parent.wait()


def test_ray_scope_counts_the_tree_of_processes_naming_the_node_dir(tmp_path: Path) -> None:
    """A parent naming the node's directory and its child belong to it; a process of
    another cluster's node on the same address (the old way of telling nodes apart), or
    naming a directory that only starts the same, does not."""
    node, other = tmp_path / "head", tmp_path / "head2"
    script = "import subprocess,sys,time; c=subprocess.Popen([sys.executable,'-c','import time; time.sleep(30)']); time.sleep(30)"
    mine = subprocess.Popen([sys.executable, "-c", script, f"--log_dir={node}/session_1/logs"])
    theirs = [
        subprocess.Popen([sys.executable, "-c", script, f"--temp_dir={other}"]),
        subprocess.Popen([sys.executable, "-c", script, "--node-ip-address=127.0.0.78"]),
    ]
    try:
        time.sleep(0.5)
        lines = run_agent(
            "--scope", "ray-processes", "--node-root", str(tmp_path), "--node-name", "head"
        )
        assert lines[-1]["ray"]["processes"] == 2
        assert lines[-1]["mem"]["used"] > 0
    finally:
        for proc in (mine, *theirs):
            _kill_tree(proc)


def test_shared_pages_count_once_in_a_node_s_memory(tmp_path: Path) -> None:
    """Ten processes of one node map the same 64 MiB (as Ray's workers map the object
    store and its libraries): the node's memory holds it once, not ten times. A sum of
    resident sizes read the demo's head over its declared memory so."""
    from gridtui.agent import rayscope

    size = 64 * 1024**2
    shared = tmp_path / "shared"
    shared.write_bytes(b"\1" * size)
    code = (
        "import mmap,sys,time\n"
        "f=open(sys.argv[1],'rb'); m=mmap.mmap(f.fileno(),0,access=mmap.ACCESS_READ)\n"
        "sum(m[i] for i in range(0,len(m),4096)); print('ready',flush=True); time.sleep(60)\n"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", code, str(shared), f"--temp-dir={tmp_path}/n"],
                         stdout=subprocess.PIPE)
        for _ in range(10)
    ]  # fmt: skip
    try:
        for proc in procs:
            assert proc.stdout is not None and proc.stdout.readline() == b"ready\n"
        _cpu, used, count = rayscope.RayScope(f"{tmp_path}/n", 1.0, 1024**3).read()
        assert count == 10
        resident = sum(rayscope.cpu_rss(p.pid)[1] for p in procs)
        assert resident > 10 * size  # each maps all of it
        assert used < 2 * size + 10 * 16 * 1024**2  # once, plus each interpreter's own
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()


def test_home_relative_python_is_not_left_quoted() -> None:
    """A quoted `~` is never expanded by the remote shell: SSH commands start at home."""
    ssh = NodeConfig(name="a", host="h", python="~/venv/bin/python")
    local = NodeConfig(name="b", host="h", transport="local", python="~/venv/bin/python")
    assert agent_argv(ssh, 1.0)[0] == "venv/bin/python"
    assert agent_argv(local, 1.0)[0] == os.path.expanduser("~/venv/bin/python")


def test_ray_scope_keeps_its_tree_and_adds_new_pids_without_a_full_scan() -> None:
    from gridtui.agent import rayscope

    scope = rayscope.RayScope("/tmp/gridtui-test-node-79", 1.0, 1024**3)
    assert scope.scans == 1 and scope.tree == set()
    root = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import time; time.sleep(30)",
            "--temp-dir=/tmp/gridtui-test-node-79",
        ]
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


def test_gridtui_s_own_processes_for_a_node_are_never_taken_for_its_ray() -> None:
    """The agent measuring a node and the demo's load outside Ray tie themselves to the
    node's temp dir, but never name it whole: `cluster start` took a node whose agent ran
    for one already running Ray (and skipped it), and `cluster stop` killed the agent."""
    from gridtui.agent.procfs import mentions
    from gridtui.agent.rayscope import process_tree
    from gridtui.services.cluster import demo_load as outside_load

    node = {
        "name": "w1", "host": "127.0.0.3", "transport": "local", "python": "/opt/py/bin/python3",
        "sample_scope": "ray-processes", "resources": {"cpu": 1},
    }  # fmt: skip
    config = ClusterConfig.model_validate(
        {"name": "c", "nodes": [node], "ray": {"temp_dir": "/tmp/rt"}}
    )
    agent = agent_argv(config.node("w1"), 1.0, config)
    load = ["python3", "-c", "...", "1", "0", "60", "1", *outside_load.marker("/tmp/rt/w1")]
    raylet = ["raylet", "--temp_dir=/tmp/rt/w1", "--node_ip_address=127.0.0.3"]
    assert not mentions(agent, "/tmp/rt/w1") and not mentions(load, "/tmp/rt/w1")
    assert mentions(raylet, "/tmp/rt/w1")
    procs = [(10, 1, "raylet", raylet), (11, 1, "python3", load), (12, 1, "python3", agent)]
    assert process_tree("/tmp/rt/w1", procs) == {10, 11}
    assert process_tree("/tmp/rt/w2", procs) == set()
