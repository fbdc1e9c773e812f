"""The scripts as shipped: the shared /proc module inlined, running where gridtui is not."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from gridtui.agent import script_source

MARKER_ADDRESS = "127.0.0.79"


def bare_env() -> dict[str, str]:
    """No PYTHONPATH, and `python -S` below: neither gridtui nor site-packages is reachable."""
    return {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}


def run_shipped(name: str, *argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-S", "-u", "-", *argv],
        input=script_source(name),
        capture_output=True,
        text=True,
        timeout=60,
        env=bare_env(),
        cwd=cwd,
        check=False,
    )


@pytest.fixture
def ray_like(tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A parent naming a node address and a marker, with one child: a tiny "raylet" tree."""
    script = (
        "import subprocess,sys,time; "
        "c=subprocess.Popen([sys.executable,'-S','-c','import time; time.sleep(60)']); "
        "time.sleep(60)"
    )
    marker = str(tmp_path / "node-temp")
    parent = subprocess.Popen(
        [sys.executable, "-S", "-c", script, f"--node-ip-address={MARKER_ADDRESS}", marker]
    )
    time.sleep(0.5)
    try:
        yield parent
    finally:
        with contextlib.suppress(psutil.NoSuchProcess):
            for child in psutil.Process(parent.pid).children(recursive=True):
                child.kill()
        parent.kill()
        parent.wait()


@pytest.mark.parametrize("name", ["sampler.py", "nodescript.py"])
def test_the_shipped_text_carries_the_shared_module_and_no_gridtui_import(name: str) -> None:
    source = script_source(name)
    assert "def proc_table(" in source and "def descendants(" in source
    assert "gridtui.agent" not in source.replace("gridtui.agent.procfs", "")
    assert not any(
        line.startswith(("from gridtui", "import gridtui")) for line in source.split("\n")
    )
    compile(source, name, "exec")


def test_gridtui_is_out_of_reach_there(tmp_path: Path) -> None:
    probe = subprocess.run(
        [sys.executable, "-S", "-c", "import gridtui"],
        capture_output=True,
        env=bare_env(),
        cwd=tmp_path,
        check=False,
    )
    assert probe.returncode != 0 and b"ModuleNotFoundError" in probe.stderr


def test_the_sampler_runs_alone_and_reads_a_ray_tree_from_proc(
    tmp_path: Path, ray_like: subprocess.Popen[bytes]
) -> None:
    args = ("--interval", "0.1", "--count", "2", "--scope", "ray-processes")
    done = run_shipped(
        "sampler.py", *args, "--node-root", str(tmp_path), "--node-name", "node-temp", cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    last = json.loads(done.stdout.splitlines()[-1])
    # The parent and its child, through /proc: the tree `nodescript stop` would stop (the
    # sampler names the marker in two words, so it is not taken for one of them).
    assert last["ray"]["processes"] == 2
    assert last["mem"]["used"] > 0


def test_the_node_script_finds_and_stops_a_tree_alone(
    tmp_path: Path, ray_like: subprocess.Popen[bytes]
) -> None:
    marker = str(tmp_path / "node-temp")
    version = run_shipped("nodescript.py", "version", cwd=tmp_path)
    assert version.returncode == 0, version.stderr
    assert json.loads(version.stdout)["executable"] == sys.executable
    procs = run_shipped("nodescript.py", "procs", "--marker", marker, cwd=tmp_path)
    found = {p["pid"]: p for p in json.loads(procs.stdout)["procs"]}
    assert ray_like.pid in found and len(found) == 2
    assert found[ray_like.pid]["rss"] > 0
    stop = run_shipped("nodescript.py", "stop", "--marker", marker, "--grace", "2", cwd=tmp_path)
    assert stop.returncode == 0, stop.stderr
    assert set(json.loads(stop.stdout)["terminated"]) == set(found)
    ray_like.wait(5)
    again = run_shipped("nodescript.py", "procs", "--marker", marker, cwd=tmp_path)
    assert json.loads(again.stdout)["procs"] == []
