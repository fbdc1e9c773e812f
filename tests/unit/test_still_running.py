"""What still runs on a fenced node: picked from Ray's actor table, shown and sent as JSON."""

from __future__ import annotations

from typing import Any

from gridtui.commands.offload_cmd import describe
from gridtui.model.offload import OffloadPolicy
from gridtui.model.offload_view import OffloadSnapshot
from gridtui.model.still_running import StillActor, StillRunning, collect, held_cpu
from gridtui.services.offload_policy import public

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
    assert describe(status).splitlines()[3:] == [
        "still running on head (Ray#41824: zero-CPU work is not kept off):",
        "  actor W 'w' ffffffff (no CPU, pid 7)",
        "  and 3 more",
        "  (gridtui's own, not listed: GridController)",
    ]
