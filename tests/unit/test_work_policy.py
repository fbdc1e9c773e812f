"""The pure parts of work on the grid: why something waits, Ray's answers as rows, orphans,
job requests and their Ray Jobs options, and the Nodes pane's count of work."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gridtui.model.work import META_RESOURCES, WorkItem, WorkSnapshot
from gridtui.policy.job_request import (
    BOOST_GROUP_ENV,
    BadJob,
    BoostPlace,
    check_job,
    same_owner,
    submit_options,
)
from gridtui.policy.why import Ask, Holder, NodeRoom, explain
from gridtui.policy.why_inputs import find_group, pending_reasons, rooms
from gridtui.policy.work_rows import group_row, job_rows, live_job_ids, work_items

NODES = ("head", "worker-1", "worker-2")
IDS = {"n0": "head", "n1": "worker-1", "n2": "worker-2"}


def demo_rooms(free_cpu: tuple[float, float, float] = (1, 1, 1)) -> list[NodeRoom]:
    return [
        NodeRoom(n, f"127.0.0.{i + 2}", True, {"CPU": 1.0, f"node:127.0.0.{i + 2}": 1.0},
                 {"CPU": free_cpu[i], f"node:127.0.0.{i + 2}": 1.0})
        for i, n in enumerate(NODES)
    ]  # fmt: skip


def test_an_ask_no_node_can_ever_hold_says_the_largest() -> None:
    why = explain(Ask("j1", "job", "PENDING", ({"CPU": 4.0},)), demo_rooms())
    assert why.summary == "no node has 4 CPU; the largest has 1"
    assert not why.ever and [v.fits_ever for v in why.nodes] == [False] * 3
    assert why.nodes[0].short == "needs 3 CPU more"
    memory = explain(Ask("j2", "job", "PENDING", ({"memory": 2 * 1024**3},)),
                     [NodeRoom("a", total={"memory": 1024**3}, free={"memory": 1024**3})])  # fmt: skip
    assert memory.summary == "no node has 2.0GiB memory; the largest has 1.0GiB memory"


def test_an_ask_that_fits_later_names_the_node_and_what_holds_it() -> None:
    rooms_now = demo_rooms((0, 0, 0.5))
    rooms_now[2] = NodeRoom(
        "worker-2", "127.0.0.4", True, rooms_now[2].total, rooms_now[2].free,
        (Holder("boost", "b-1", {"CPU": 0.5}),),
    )  # fmt: skip
    why = explain(Ask("t1", "task", "PENDING_NODE_ASSIGNMENT", ({"CPU": 1.0},)), rooms_now)
    assert why.ever
    assert why.summary == (
        "it fits on worker-2 once 0.5 CPU more is free there (held by boost b-1 (0.5 CPU))"
    )
    assert why.nodes[2].short == "fits once 0.5 CPU more is free"


def test_a_job_pinned_to_a_node_is_judged_there_and_a_dead_pin_is_named() -> None:
    ask = Ask("j", "job", "PENDING", ({"CPU": 1.0, "node:127.0.0.4": 0.001},))
    why = explain(ask, demo_rooms((1, 1, 0)))
    assert [v.fits_ever for v in why.nodes] == [False, False, True]
    assert why.nodes[0].short.startswith("not this node")
    assert why.summary.startswith("it fits on worker-2 once 1 CPU")
    dead = [r for r in demo_rooms() if r.name != "worker-2"]
    assert explain(ask, dead).summary == "it is pinned to 127.0.0.4, which is not alive in Ray"


def test_groups_by_strategy_and_what_is_not_waiting() -> None:
    two = ({"CPU": 1.0}, {"CPU": 1.0})
    assert explain(Ask("g", "placement group", "PENDING", two, "SPREAD"), demo_rooms()).ever
    packed = explain(Ask("g", "placement group", "PENDING", two, "STRICT_PACK"), demo_rooms())
    assert not packed.ever and packed.summary == "no node has 2 CPU; the largest has 1"
    four = tuple({"CPU": 0.5} for _ in range(4))
    spread = explain(Ask("g", "placement group", "PENDING", four, "STRICT_SPREAD"), demo_rooms())
    assert not spread.ever and "4 bundles need as many nodes" in spread.summary
    running = explain(Ask("j", "job", "RUNNING", ({"CPU": 1.0},), where="worker-1"), demo_rooms())
    assert running.summary == "not waiting: running on worker-1" and running.nodes == ()
    assert explain(Ask("j", "job", "PENDING", ({"CPU": 1.0},)), []).summary == "no node is alive"


# -- Ray's answers as rows (shapes as Ray 2.60's state API and job server give them) -------


def test_jobs_take_their_asks_from_gridtui_metadata_or_the_supervisor() -> None:
    meta = {"gridtui.owner": "ann@box (cli, pid 1)", META_RESOURCES: json.dumps({"CPU": 4})}
    jobs = [
        {"type": "SUBMISSION", "submission_id": "a", "status": "PENDING", "entrypoint": "x",
         "start_time": 2000, "metadata": meta, "driver_node_id": None},
        {"type": "SUBMISSION", "submission_id": "b", "status": "RUNNING", "entrypoint": "y",
         "start_time": 1000, "metadata": {}, "driver_node_id": "n2",
         "driver_info": {"pid": "77"}},
        {"type": "DRIVER", "submission_id": None, "job_id": "02000000", "status": "RUNNING"},
    ]  # fmt: skip
    actors = [{"name": "_ray_internal_job_actor_b", "required_resources": {"CPU": 0.5}}]
    rows = job_rows(jobs, actors, IDS)
    assert [r.id for r in rows] == ["b", "a"]  # a driver started by hand is not a job here
    assert rows[0].node == "worker-2" and rows[0].driver_pid == 77
    assert dict(rows[0].resources) == {"CPU": 0.5}
    assert dict(rows[1].resources) == {"CPU": 4.0} and rows[1].owner.startswith("ann@")
    assert rows[1].to_json()["start"] == 2.0


def test_work_items_keep_gridtui_apart_and_name_job_entrypoints() -> None:
    actors = [
        {"actor_id": "a1", "class_name": "f.<locals>.Counter", "state": "ALIVE", "node_id": "n1",
         "pid": 5, "job_id": "01", "ray_namespace": "anon", "name": "counter",
         "required_resources": {"CPU_group_0_abc": 1.0, "CPU_group_abc": 1.0}},
        {"actor_id": "a2", "class_name": "GridController", "state": "ALIVE", "node_id": "n0",
         "ray_namespace": "gridtui", "required_resources": {}},
        {"actor_id": "a3", "class_name": "JobSupervisor", "state": "ALIVE", "node_id": "n2",
         "name": "_ray_internal_job_actor_j9", "required_resources": {"CPU": 0.5}},
        {"actor_id": "a4", "class_name": "Waiting", "state": "PENDING_CREATION", "node_id": ""},
    ]  # fmt: skip
    tasks = [
        {"task_id": "t1", "func_or_class_name": "work", "state": "RUNNING", "type": "NORMAL_TASK",
         "node_id": "n2", "worker_pid": 9, "required_resources": {"GPU": 1.0}},
        {"task_id": "t2", "func_or_class_name": "Counter.inc", "state": "RUNNING",
         "type": "ACTOR_TASK", "node_id": "n1"},
    ]  # fmt: skip
    items = work_items(actors, tasks, IDS)
    assert [(i.kind, i.name, i.node, i.own) for i in items] == [
        ("actor", "GridController", "head", True),
        ("actor", "Counter", "worker-1", False),
        ("job", "j9", "worker-2", False),
        ("task", "work", "worker-2", False),
    ]
    assert items[1].cpu == 1.0 and items[1].label == "counter" and items[3].gpu == 1.0
    snap = WorkSnapshot(time=0.0, items=items, nodes=NODES)
    counts = snap.counts()
    assert counts["head"].total == 0 and counts["head"].label() == "-"
    assert (counts["worker-2"].jobs, counts["worker-2"].tasks, counts["worker-2"].label()) == (
        1,
        1,
        "2",
    )
    assert [i.name for i in snap.by_node()["worker-1"]] == ["Counter"]
    assert [i.name for i in snap.own_items()] == ["GridController"]


def group(name: str, creator: str, detached: bool = True, state: str = "CREATED") -> dict:
    return {"placement_group_id": f"pg-{name}", "name": name, "creator_job_id": creator,
            "state": state, "is_detached": detached, "strategy": "PACK",
            "bundles": [{"node_id": "n1", "unit_resources": {"CPU": 0.5}}],
            "stats": {"creation_request_received_ns": "2000000000"}}  # fmt: skip


def test_owners_and_orphans() -> None:
    jobs = [{"job_id": "01", "status": "RUNNING", "end_time": 0},
            {"job_id": "02", "status": "SUCCEEDED", "end_time": 5}]  # fmt: skip
    live = live_job_ids(jobs)
    assert live == frozenset({"01"})
    rows = {
        g["name"]: group_row(g, IDS, {}, live)
        for g in (
            group("gridtui:boost:b-1", "02"), group("gridtui:share:s-2", "02"),
            group("gridtui:fence:worker-1#1", "02"), group("mine", "01"),
            group("left", "02"), group("tied", "02", detached=False),
        )
    }  # fmt: skip
    owners = {n: (r.owner, r.owner_id) for n, r in rows.items()}
    assert owners == {
        "gridtui:boost:b-1": ("boost", "b-1"),
        "gridtui:share:s-2": ("share", "s-2"),
        "gridtui:fence:worker-1#1": ("fence", "worker-1"),
        "mine": ("job", "01"),
        "left": ("unknown", "02"),
        "tied": ("unknown", "02"),
    }
    assert [n for n, r in rows.items() if r.orphan] == ["left"]  # gridtui's never are
    left = rows["left"]
    assert left.nodes == ("worker-1",) and left.created == 2.0
    assert find_group(rows.values(), "b-1") == (rows["gridtui:boost:b-1"], "boost")
    assert find_group(rows.values(), "pg-left") == (left, "placement group")


def test_pending_reasons_from_totals_and_holders_without_a_driver() -> None:
    entries = {n: {"alive": True, "address": f"127.0.0.{i + 2}", "total": {"CPU": 1.0}}
               for i, n in enumerate(NODES)}  # fmt: skip
    held = group_row(group("gridtui:boost:b-1", "01"), IDS, {}, frozenset({"01"}))
    item = WorkItem("task", "t", "busy", "worker-2", "RUNNING", cpu=1.0)
    nodes = rooms(entries, [held], [item])
    assert [dict(r.free) for r in nodes] == [{"CPU": 1.0}, {"CPU": 0.5}, {"CPU": 0.0}]
    jobs = job_rows([{"submission_id": "big", "status": "PENDING",
                      "metadata": {META_RESOURCES: '{"CPU": 4}'}}], [], IDS)  # fmt: skip
    assert pending_reasons(jobs, [], nodes) == {"big": "no node has 4 CPU; the largest has 1"}


# -- job requests ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "kw", "message"),
    [
        ([], {}, "no command"),
        (["--"], {}, "no command"),
        (["  "], {}, "no command"),
        (["x"], {"node": "worker-2", "strategy": "spread"}, "--node and --strategy cannot"),
        (["x"], {"node": "worker-2", "boost": "b-1"}, "--node and --boost cannot"),
        (["x"], {"node": "nope"}, "unknown node 'nope' (known: head, worker-1, worker-2)"),
        (["x"], {"strategy": "fastest"}, "unknown strategy 'fastest'"),
        (["x"], {"cpu": -1.0}, "--cpu must be a number from 0 to 4096"),
        (["x"], {"gpu": float("nan")}, "--gpu must be a number"),
        (["x"], {"env": ["1A=b"]}, "--env takes NAME=VALUE"),
        (["x"], {"env": ["novalue"]}, "--env takes NAME=VALUE"),
    ],
)
def test_bad_requests_are_one_line(command: list[str], kw: dict, message: str) -> None:
    with pytest.raises(BadJob) as caught:
        check_job(command, nodes=NODES, strategies=("spread", "best-fit"), **kw)
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_submit_options_pin_the_entrypoint_and_hand_a_boost_to_the_job() -> None:
    request = check_job(["--", "python", "run.py", "a b"], node="worker-2", cpu=0.5,
                        memory=2 * 1024**3, env=["K=v=w"], nodes=NODES)  # fmt: skip
    assert request.entrypoint == "python run.py 'a b'"
    options = submit_options(request, node_ip="127.0.0.4", owner="ann@box (cli, pid 3)")
    assert options["entrypoint_resources"] == {"node:127.0.0.4": 0.001}
    assert options["entrypoint_num_cpus"] == 0.5 and options["entrypoint_memory"] == 2 * 1024**3
    assert options["runtime_env"] == {"env_vars": {"K": "v=w"}}
    assert json.loads(options["metadata"][META_RESOURCES])["CPU"] == 0.5
    boosted = submit_options(check_job(["x"], boost="b-1"), owner="ann@box (api, pid 9)",
                             boost=BoostPlace("b-1", "ab" * 18, "127.0.0.3"))  # fmt: skip
    assert boosted["entrypoint_resources"] == {"node:127.0.0.3": 0.001}
    assert boosted["entrypoint_num_cpus"] == 0  # the driver takes none of the boost
    assert boosted["runtime_env"]["env_vars"][BOOST_GROUP_ENV] == "ab" * 18
    assert same_owner("ann@box (cli, pid 3)", "ann@box (api, pid 9)")
    assert not same_owner("ann@box (cli, pid 3)", "bob@box (cli, pid 3)")


def test_working_dir_missing_or_too_large_is_refused(tmp_path: Path) -> None:
    from gridtui.services.work.submit import JobInputError, check_working_dir

    with pytest.raises(JobInputError, match="does not exist"):
        check_working_dir(str(tmp_path / "nope"))
    big = tmp_path / "big"
    big.mkdir()
    with (big / "data.bin").open("wb") as f:
        f.truncate(2 * 1024**2)  # sparse: no disk used, 2 MiB as stat and Ray's zip see it
    with pytest.raises(JobInputError, match="more than 1 MiB"):
        check_working_dir(str(big), limit=1024**2)
    assert check_working_dir(str(big), limit=4 * 1024**2) == big


def test_a_boost_that_is_not_the_callers_or_not_active_is_refused() -> None:
    from gridtui.config import ClusterConfig
    from gridtui.model.reservations import Bundle, Reservation
    from gridtui.services.control.client import NotFound, Refused
    from gridtui.services.work.submit import check_boost

    config = ClusterConfig.model_validate(
        {"nodes": [{"name": "head", "host": "127.0.0.2", "role": "head"},
                   {"name": "worker-1", "host": "127.0.0.3"}]}
    )  # fmt: skip
    mine = "ann@box (cli, pid 1)"
    active = Reservation("b-1", "boost", "cpu", 1.0, (Bundle("worker-1", 1.0),), "active", 0.0,
                         owner="ann@box (console, pid 7)", pg_id="ab" * 18)  # fmt: skip
    place = check_boost("b-1", [active], mine, config)
    assert (place.group_id, place.node_ip) == ("ab" * 18, "127.0.0.3")
    with pytest.raises(Refused, match="is bob@box's, not yours"):
        check_boost("b-1", [active.replace(owner="bob@box (cli, pid 2)")], mine, config)
    with pytest.raises(Refused, match="is released, not active"):
        check_boost("b-1", [active.replace(state="released")], mine, config)
    with pytest.raises(NotFound, match="no boost 'b-2'"):
        check_boost("b-2", [active], mine, config)
