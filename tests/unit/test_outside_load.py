"""`demo load --outside-ray`: plain processes a demo node's scope counts, stopped by PID."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from gridtui.agent import rayscope
from gridtui.services.cluster import demo_load as outside_load
from gridtui.services.cluster.demo import demo_config
from gridtui.services.cluster.node_commands import temp_dir


def argv(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")


def test_the_load_counts_for_its_node_and_is_stopped_at_the_end() -> None:
    config = demo_config()
    seen: dict[int, list[str]] = {}

    def during(seconds: float) -> None:
        assert seconds == 30
        for proc in outside_load._started[-2:]:
            deadline = time.monotonic() + 10  # until the fork has become the load (exec)
            while "-c" not in argv(proc.pid) and time.monotonic() < deadline:
                time.sleep(0.01)
            seen[proc.pid] = argv(proc.pid)
        scope = rayscope.RayScope(temp_dir(config.node("head"), config), 1.0, 1024**3)
        seen[0] = [str(p) for p in sorted(scope.pids())]

    pids = outside_load.run(config, "head", 1.5, 8 * 1024**2, 30, sleep=during)
    assert len(pids) == 2 and set(seen) - {0} == set(pids)
    where = outside_load.marker(temp_dir(config.node("head"), config))
    assert all(set(where) <= set(seen[p]) for p in pids)
    assert {str(p) for p in pids} <= set(seen[0])  # the head's scope counts them
    assert [seen[p][3:6] for p in pids] == [["1", "4194304", "30"], ["0.5", "4194304", "30"]]
    for pid in pids:  # gone by PID, well before their own 30 s
        assert not Path(f"/proc/{pid}").exists()


def test_ctrl_c_stops_the_load_too() -> None:
    def interrupted(seconds: float) -> None:
        raise KeyboardInterrupt

    started = len(outside_load._started)
    with pytest.raises(KeyboardInterrupt):
        outside_load.run(demo_config(), "worker-1", 1, 0, 30, sleep=interrupted)
    assert len(outside_load._started) == started


def test_the_load_ends_with_its_command_however_it_is_killed(tmp_path: Path) -> None:
    """SIGKILL of `demo load --outside-ray` leaves no load running (the parent-death
    signal), long before the load's own seconds are up."""
    import os
    import signal
    import subprocess
    import sys

    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path / "state")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "gridtui", "demo", "load", "--node", "head", "--outside-ray",
         "--seconds", "600"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env,
    )  # fmt: skip
    assert proc.stderr is not None and proc.stderr.readline().startswith(b"loading head")
    loads = until_loads(proc.pid)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 30
    while any(Path(f"/proc/{p}").exists() and alive(p) for p in loads):
        assert time.monotonic() < deadline, "a load outlived its SIGKILLed command"
        time.sleep(0.05)


def until_loads(parent: int) -> list[int]:
    """The load processes of `parent` once they run the load's code."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = [
            int(p.name)
            for p in Path("/proc").iterdir()
            if p.name.isdigit() and _child_load(int(p.name), parent)
        ]
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError("no load process started")


def _child_load(pid: int, parent: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        words = argv(pid)
    except OSError:
        return False
    return int(stat.rpartition(")")[2].split()[1]) == parent and outside_load.LOAD_CODE in words


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] not in "ZX"
    except OSError:
        return False
