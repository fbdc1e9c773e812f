"""What still runs on a fenced node: Ray's actor table and workers' titles, shown and sent."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

import pytest

from gridtui.actors import still_running as reader_module
from gridtui.actors.node_sampler import NodeSampler
from gridtui.actors.node_tasks import WorkerTitles
from gridtui.actors.still_running import NOT_WATCHED, StillRunningReader
from gridtui.commands.offload_cmd import describe
from gridtui.model.offload import OffloadPolicy
from gridtui.model.offload_view import OffloadSnapshot
from gridtui.model.still_running import (
    StillActor,
    StillRunning,
    StillTask,
    collect,
    held_cpu,
    pick_tasks,
    task_name,
)
from gridtui.services.offload.thresholds import public

HEAD, WORKER = "aa" * 28, "bb" * 28


def actor(cls: str, node: str = HEAD, ns: str = "user", **extra: Any) -> dict[str, Any]:
    return {
        "actor_id": f"{cls.rpartition('.')[2].lower():0<32}"[:32],
        "class": cls,
        "name": "",
        "namespace": ns,
        "node_id": node,
        "pid": 100,
        "resources": {},
        **extra,
    }


def test_only_the_nodes_actors_zero_cpu_first_and_gridtuis_own_apart() -> None:
    table = [
        actor("Trainer", resources={"CPU": 1.0}),
        actor("f.<locals>.Watcher", name="w", pid=0),
        actor("Elsewhere", node=WORKER),
        actor("GridController", ns="gridtui"),
        actor("MemoryShard", ns="gridtui"),
        actor("MemoryShard", node=WORKER, ns="gridtui"),
    ]
    still = collect(table, HEAD)
    assert [(a.cls, a.cpu, a.pid, a.name) for a in still.actors] == [
        ("Watcher", 0.0, None, "w"),
        ("Trainer", 1.0, 100, ""),
    ]
    assert still.own == ("GridController", "MemoryShard") and still.more == 0
    assert still.lines() == [
        "actor Watcher 'w' watcher0 (no CPU)",
        "actor Trainer trainer0 (1 CPU, pid 100)",
    ]
    assert still.own_note() == "gridtui's own, not listed: GridController, MemoryShard"


def test_capped_with_a_count_of_the_rest_and_empty_says_so() -> None:
    still = collect([actor(f"A{i:02d}") for i in range(25)], HEAD, cap=20)
    assert len(still.actors) == 20 and still.more == 5
    assert still.lines()[-1] == "and 5 more"
    assert collect([actor("Elsewhere", node=WORKER)], HEAD).lines() == ["nothing else runs there"]
    assert StillRunning(error="GCS down").lines() == [
        "unknown: Ray's actor table could not be read: GCS down"
    ]


def test_a_placement_groups_cpu_counts_once() -> None:
    pg = "cc" * 9
    assert held_cpu({f"CPU_group_{pg}": 2.0, f"CPU_group_0_{pg}": 2.0, "memory": 5.0}) == 2.0
    assert held_cpu({"memory": 5.0}) == 0.0


def test_the_record_round_trips_and_an_old_controller_sends_none() -> None:
    still = StillRunning((StillActor("W", "ff" * 16, 0.0, 7, "w"),), 3, ("GridController",))
    assert StillRunning.from_record(still.to_record()) == still
    status = {**OffloadPolicy().to_record(), "fenced": ["head"]}
    assert public(status)["still_running"] == {}
    assert OffloadSnapshot.from_status(0.0, status, ()).still_running == {}
    status["still_running"] = {"head": still.to_record()}
    assert public(status)["still_running"] == {"head": still.to_record()}
    assert OffloadSnapshot.from_status(0.0, status, ()).still_running == {"head": still}
    assert describe(public(status)).splitlines()[3:] == [
        "still running on head (Ray#41824: zero-CPU work is not kept off):",
        "  actor W 'w' ffffffff (no CPU, pid 7)",
        "  and 3 more",
        "  (gridtui's own, not listed: GridController)",
    ]


# -- tasks: seen by their worker's process title ------------------------------------------

CLK = os.sysconf("SC_CLK_TCK")


def fake_proc(root: Path, procs: dict[int, tuple[str, int]]) -> None:
    """A /proc-like tree: {pid: (title, cpu ticks)}, cmdline padded with NULs as
    setproctitle leaves it (recorded from a demo node: `ray::IDLE\\0\\0...`)."""
    for pid, (title, ticks) in procs.items():
        d = root / str(pid)
        d.mkdir(exist_ok=True)
        (d / "cmdline").write_bytes(title.encode() + b"\0" * 120)
        # pid (comm) state ppid ... utime(14) stime(15): fields after the name, 0-based 11/12
        fields = ["S", "1036"] + ["0"] * 9 + [str(ticks), "0"] + ["0"] * 10
        (d / "stat").write_text(f"{pid} ({title[:15]}) {' '.join(fields)}\n")


RECORDED = {  # titles of the demo head's process tree, a task and an actor method added
    1036: ("/venv/lib/python3.11/site-packages/ray/core/src/ray/raylet/raylet", 500),
    1059: ("ray::DashboardAgent", 80),
    1061: ("ray::RuntimeEnvAgent", 40),
    2382: ("ray::GridController", 300),
    2817: ("ray::IDLE", 10),
    2901: ("ray::SPILL_SpillWorker", 5),
    3001: ("ray::fenced_sleeper", 0),
    3002: ("ray::Watcher.poll", 7),
    3003: ("ray::custom name.x", 2),
}


def test_task_names_come_from_worker_titles_and_rays_own_are_not_tasks() -> None:
    assert task_name(["ray::fenced_sleeper"]) == "fenced_sleeper"
    assert task_name(["ray::custom name.x"]) == "custom name.x"
    for title in (
        "ray::IDLE",
        "ray::DashboardAgent",
        "ray::RuntimeEnvAgent",
        "ray::IDLE_SpillWorker",
        "ray::RESTORE_RestoreWorker",
        "ray::",
        "raylet",
    ):
        assert task_name([title]) is None, title  # fmt: skip
    assert task_name([]) is None


def test_worker_titles_read_from_proc_with_cpu_since_the_last_read(tmp_path: Path) -> None:
    fake_proc(tmp_path, RECORDED)
    now = [100.0]
    titles = WorkerTitles(lambda: set(RECORDED) | {9999}, str(tmp_path), lambda: now[0])
    first = titles.read()  # 9999 is gone: skipped
    assert [w["pid"] for w in first] == [1059, 1061, 2382, 2817, 2901, 3001, 3002, 3003]
    assert all(w["cpu"] is None for w in first)
    assert first[5] == {"pid": 3001, "argv": ["ray::fenced_sleeper"], "cpu": None}
    fake_proc(tmp_path, {3001: ("ray::fenced_sleeper", CLK)})  # one CPU second
    now[0] += 2.0
    second = {w["pid"]: w["cpu"] for w in titles.read()}
    assert second[3001] == pytest.approx(50.0) and second[2817] == 0.0
    fake_proc(tmp_path, {3001: ("ray::fenced_sleeper", CLK + 1)})
    now[0] += 0.01  # a look a moment later: too short for ticks, the last figure stands
    assert {w["pid"]: w["cpu"] for w in titles.read()}[3001] == pytest.approx(50.0)
    fake_proc(tmp_path, {3001: ("ray::fenced_sleeper", 2 * CLK)})
    now[0] += 0.99  # one second after the second look (its baseline): one CPU second more
    assert {w["pid"]: w["cpu"] for w in titles.read()}[3001] == pytest.approx(100.0)


def test_tasks_leave_out_idle_workers_rays_own_and_the_actors_processes() -> None:
    workers = [{"pid": p, "argv": [t], "cpu": 3.0 if p == 3001 else None}
               for p, (t, _) in RECORDED.items()]  # fmt: skip
    tasks, more = pick_tasks(workers, {2382, 3002})
    assert tasks == (StillTask("custom name.x", 3003), StillTask("fenced_sleeper", 3001, 3.0))
    assert more == 0
    many = [{"pid": i, "argv": ["ray::t"]} for i in range(1, 26)]
    tasks, more = pick_tasks(many, set(), cap=20)
    assert len(tasks) == 20 and more == 5


def test_tasks_are_listed_after_actors_and_their_gaps_said() -> None:
    watcher = StillActor("Watcher", "9f" * 16, 0.0, 3002, "w")
    still = StillRunning((watcher,), tasks=(StillTask("f", 3001, 12.4), StillTask("g", 3005)))
    assert still.lines() == [
        "actor Watcher 'w' 9f9f9f9f (no CPU, pid 3002)",
        "task f (pid 3001, 12% CPU)",
        "task g (pid 3005)",
    ]
    assert StillRunning.from_record(still.to_record()) == still
    only = StillRunning(tasks=tuple(StillTask(f"t{i}", i) for i in range(8)), more_tasks=2)
    assert only.lines(6, "(hint)")[-1] == "and 4 more (hint)"
    both = dataclasses.replace(only, actors=(watcher,) * 7)
    assert both.lines(6)[6:8] == ["and 1 more", "task t0 (pid 0)"]
    assert both.lines(6)[-1] == "and 4 more tasks"
    unwatched = StillRunning(tasks_error=NOT_WATCHED)
    assert unwatched.lines() == [f"tasks unknown: {NOT_WATCHED}"]
    old = {"actors": [], "more": 0, "own": []}  # a controller older than the task list
    assert StillRunning.from_record(old).lines() == [
        "tasks unknown: not reported (an older controller)"
    ]


class RecordedSampler(NodeSampler):
    """The head's sampler (in the controller's process), answering recorded titles."""

    def __init__(self, workers: list[dict[str, Any]]) -> None:
        self.workers = workers

    def tasks(self) -> dict[str, Any]:
        return {"workers": self.workers}


def test_the_reader_joins_tasks_to_the_actor_list(monkeypatch: pytest.MonkeyPatch) -> None:
    table = [
        actor("Watcher", pid=3002),
        actor("GridController", ns="gridtui", pid=2382),
        actor("Elsewhere", node=WORKER, pid=3001),  # the same PID on another host
    ]
    monkeypatch.setattr(reader_module.ray_private, "alive_actors", lambda: table)
    workers = [{"pid": p, "argv": [t], "cpu": None} for p, (t, _) in RECORDED.items()]
    found = StillRunningReader().read(
        {"head": HEAD, "worker": WORKER}, {"head": RecordedSampler(workers)}
    )
    head = StillRunning.from_record(found["head"])
    assert [t.name for t in head.tasks] == ["custom name.x", "fenced_sleeper"]
    assert [a.cls for a in head.actors] == ["Watcher"] and head.own == ("GridController",)
    assert StillRunning.from_record(found["worker"]).tasks_error == NOT_WATCHED

    def down() -> list[dict[str, Any]]:
        raise RuntimeError("GCS down\nmore")

    monkeypatch.setattr(reader_module.ray_private, "alive_actors", down)
    gone = StillRunningReader().read({"head": HEAD}, {"head": RecordedSampler(workers)})
    assert StillRunning.from_record(gone["head"]).lines() == [
        "unknown: Ray's actor table could not be read: GCS down"
    ]


def test_a_sampler_that_finds_no_raylet_for_its_directory_says_so() -> None:
    answer = NodeSampler("host", "/tmp/gridtui-no-such-node").tasks()
    assert answer == {
        "error": "no process here names the node's directory /tmp/gridtui-no-such-node"
    }
