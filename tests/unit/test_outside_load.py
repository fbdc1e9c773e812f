"""`demo load --outside-ray`: plain processes a demo node's scope counts, stopped by PID."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from gridtui.agent import sampler
from gridtui.services import outside_load
from gridtui.services.demo import demo_config


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
        scope = sampler.RayScope(config.node("head").host, 1.0, 1024**3)
        seen[0] = [str(p) for p in sorted(scope.pids())]

    pids = outside_load.run(config, "head", 1.5, 8 * 1024**2, 30, sleep=during)
    assert len(pids) == 2 and set(seen) - {0} == set(pids)
    assert all(outside_load.marker("127.0.0.2") in seen[p] for p in pids)
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
