"""Auto-offload on a real three-node Ray cluster (the demo): load, fence, elsewhere, lift.

On the shared demo (conftest.py). The load is a busy-loop process outside Ray that the head's
`ray-processes` scope counts (its command line names the head's address, as a Ray
process of that node would): measured like the console measures the demo's head, and
unaffected by whatever else this host runs."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import pytest
from boost_cluster import BoostCluster

from gridtui.actors.upkeep import LEASE_SECONDS
from gridtui.model.offload import OffloadPolicy, Rule, fence_name
from gridtui.services.cluster import demo
from gridtui.services.control.client import CONTROLLER_NAME, NAMESPACE

pytestmark = pytest.mark.ray

FENCE = fence_name("head")
WAIT = 60.0


@pytest.fixture(scope="module")
def cl(shared_demo: BoostCluster) -> BoostCluster:
    return shared_demo


def until(what: str, check: Callable[[], Any]) -> Any:
    """Poll `check` until truthy; the bound only keeps a broken engine from hanging CI."""
    deadline = time.monotonic() + WAIT
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"never: {what}")
        time.sleep(0.3)


def where_code() -> str:
    """An independent driver that runs one task with no placement and prints its node."""
    return (
        "import logging, sys, ray\n"
        "addr = sys.argv[1]\n"
        "ray.init(address=addr, _node_ip_address=addr.rpartition(':')[0], namespace='w',\n"
        "         log_to_driver=False, logging_level=logging.ERROR, configure_logging=False)\n"
        "@ray.remote(num_cpus=1)\n"
        "def where():\n"
        "    return ray.get_runtime_context().get_node_id()\n"
        "print(ray.get(where.remote(), timeout=60))\n"
    )


def as_from_a_terminal(*args: str) -> list[str]:
    """`python -m gridtui ARGS` with SIGINT's default disposition, as a terminal gives it:
    a test run in the background (CI, `cmd &` in a script) inherits SIGINT ignored, and a
    Python started so never turns Ctrl-C into KeyboardInterrupt (the baseline's 60 s
    hang of `demo load` below). exec keeps the PID, so the signal goes where it should."""
    reset = (
        "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
        "os.execv(sys.executable, [sys.executable, '-m', 'gridtui', *sys.argv[1:]])"
    )
    return [sys.executable, "-c", reset, *args]


def start_load(cl: BoostCluster) -> subprocess.Popen[str]:
    """The demo's own load outside Ray (a plain busy process the head's scope counts)."""
    return subprocess.Popen(
        as_from_a_terminal("demo", "load", "--node", "head", "--outside-ray", "--seconds", "600"),
        cwd=cl.work, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def stop_load(load: subprocess.Popen[str]) -> None:
    """Ctrl-C, so its children stop too (SIGKILL after 30 s: they die with it as well)."""
    if load.poll() is None:
        load.send_signal(signal.SIGINT)
        try:
            load.wait(30)
        except subprocess.TimeoutExpired:
            load.kill()
            load.wait()


def test_load_on_the_head_fences_it_and_work_goes_elsewhere(cl: BoostCluster) -> None:
    scopes = {n.name: n.sample_scope for n in cl.config.nodes}
    assert scopes["head"] == "ray-processes"
    rule = Rule(40, sustain=2, hysteresis=25, cooldown=0)
    dry = OffloadPolicy(enabled=True, rules={"cpu": rule}, dry_run=True)
    cl.run(lambda: cl.control.offload_set(dry, scopes))
    code, out, err = cl.cli("offload", "auto", "--status", "--json")
    assert code == 0, err
    status = json.loads(out)
    assert status["enabled"] and status["dry_run"]
    assert status["thresholds"] == {"cpu": 40} and status["watched"] == ["head"]
    # Quiet first: the engine samples the head and nothing is fenced.
    until("the head sampled quiet", lambda: _live_cpu(cl) < 15)
    assert FENCE not in cl.groups()

    load = start_load(cl)
    try:
        # Dry-run decides and records, and Ray holds no fence.
        until("the dry-run fence event", lambda: _events(cl, "dry-run"))
        assert FENCE not in cl.groups()
        # Then live, with the load still on (the case): a fresh sustain window,
        # then the fence. No client calls the engine from here on: its own loop acts.
        code, out, err = cl.cli("offload", "auto", "--enable")
        assert code == 0, err
        assert out.startswith("auto-offload on: cpu 40% for 2s")
        until("the fence is placed", lambda: cl.groups().get(FENCE, {}).get("state") == "CREATED")
        seen = cl.probe()  # an independent driver sees it in Ray's table
        fence = next(g for g in seen["groups"] if g["name"] == FENCE)
        head_id = seen["nodes"]["head"]["node_id"]
        assert set(fence["nodes"].values()) == {head_id}
        assert fence["bundles"]["0"]["CPU"] == 1
        assert seen["nodes"]["head"]["available"].get("CPU", 0) == 0
        ran = cl.python(where_code(), cl.address, driver=True)
        assert ran.returncode == 0, ran.stderr
        assert ran.stdout.strip().splitlines()[-1] != head_id
        # local-first skips the fenced head even for memory, which the fence leaves free.
        plan = cl.run(lambda: cl.control.plan("memory", "64MiB", "local-first"))
        assert "head" not in plan.nodes, plan
        assert "busy for auto-offload (fenced)" in plan.reason
        zero_cpu_work_still_lands_and_is_listed(cl, head_id)
        # A new controller keeps the policy and the fence (found in Ray's table by name).
        cl.run(kill_controller)
        status = cl.run(cl.control.offload_status)
        assert status["enabled"] and status["fenced"] == ["head"]
        assert status["rules"]["cpu"]["threshold"] == 40
        load.send_signal(signal.SIGINT)  # Ctrl-C: the load command stops its processes
        out, _ = load.communicate(timeout=60)
        assert load.returncode == 130
        assert not _outside_loads(), "a load process outlived its command"
    finally:
        stop_load(load)
    until("the fence is lifted (by the new controller)", lambda: FENCE not in cl.groups())
    assert all(g["name"] != FENCE for g in cl.probe()["groups"])

    code, out, err = cl.cli("offload", "events", "--json")
    assert code == 0, err
    events = [json.loads(line) for line in out.splitlines()]
    assert [(e["action"], e["node"], e["result"].split(":")[0]) for e in events] == [
        ("fence", "head", "dry-run"),
        ("fence", "head", "done"),
        ("unfence", "head", "done"),
    ]
    rise, fall = events[1]["trigger"], events[2]["trigger"]
    assert rise["metric"] == "cpu" and rise["value"] >= 40 and rise["held"] >= 2
    assert fall["metric"] == "cpu" and fall["value"] < 15 and fall["threshold"] == 15
    assert [e["seq"] for e in events] == sorted(e["seq"] for e in events)
    assert [e["time"] for e in events] == sorted(e["time"] for e in events)
    assert "cpu" in events[1]["message"] and ">= 40%" in events[1]["message"]


def test_enable_interrupted_before_during_or_after_leaves_no_orphan_fence(
    cl: BoostCluster,
) -> None:
    """`offload auto --enable` with the head busy, SIGINTed or SIGKILLed as it starts
    (before it reaches Ray), once its driver is connected (during), and once the engine
    has the new policy (just after its work). Each time the policy is all or nothing,
    and the fences the engine counts are exactly the fence groups Ray holds, seen from
    an independent driver: none orphaned, none missing. A last `--disable` leaves none."""
    import psutil

    scopes = {n.name: n.sample_scope for n in cl.config.nodes}
    off = OffloadPolicy(rules={"cpu": Rule(40, sustain=0, hysteresis=25, cooldown=0)})
    enable = ("offload", "auto", "--enable", "--threshold", "cpu=45")
    port = cl.config.ray.port

    def connected(pid: int) -> bool:
        with contextlib.suppress(psutil.Error):
            procs = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
            return any(c.raddr and c.raddr.port == port
                       for p in procs for c in p.net_connections("tcp"))  # fmt: skip
        return False

    points: dict[str, Callable[[int], bool]] = {
        "before": lambda pid: True,
        "during": connected,
        "after": lambda pid: bool(cl.run(cl.control.offload_status)["enabled"]),
    }
    load = start_load(cl)
    try:
        until("the load runs", _outside_loads)
        cases = [("before", signal.SIGINT), ("during", signal.SIGKILL), ("after", signal.SIGINT)]
        for when, sig in cases:
            cl.run(lambda: cl.control.offload_set(off, scopes))
            assert FENCE not in cl.groups()
            cli = subprocess.Popen(as_from_a_terminal(*enable), cwd=cl.work,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
            try:
                deadline = time.monotonic() + WAIT
                while cli.poll() is None and not points[when](cli.pid):
                    assert time.monotonic() < deadline, f"never {when}"
                    time.sleep(0.02)
                cli.send_signal(sig)
                cli.communicate(timeout=WAIT)
            finally:
                if cli.poll() is None:
                    cli.kill()
                    cli.wait()
            assert cli.returncode in (0, 130, -sig), (when, sig, cli.returncode)
            status = cl.run(cl.control.offload_status)
            # All or nothing: off at 40%, or on at 45%.
            threshold = status["rules"]["cpu"]["threshold"]
            assert (status["enabled"], threshold) in ((False, 40), (True, 45)), (when, sig)
            if status["enabled"]:  # it got through: the engine fences the busy head
                until("the engine fences", lambda: cl.run(cl.control.offload_status)["fenced"])
            held = [g for g in cl.probe()["groups"] if g["name"].startswith(FENCE)]
            engine = cl.run(cl.control.offload_status)["fenced"]
            assert engine == (["head"] if held else []), (when, sig, engine, held)
            assert engine == (["head"] if status["enabled"] else []), (when, sig)
    finally:
        stop_load(load)
    code, out, err = cl.cli("offload", "auto", "--disable")
    assert code == 0, err
    assert out.splitlines()[-1] == "fenced (in Ray): none"
    assert not [g for g in cl.probe()["groups"] if g["name"].startswith(FENCE)]


def zero_cpu_work_still_lands_and_is_listed(cl: BoostCluster, head_id: str) -> None:
    """Ray#41824: a zero-CPU actor and a zero-CPU task still start on the fenced head; the
    status lists both (the CLI's JSON; the task by its worker's process title, the actor's
    worker not taken for a task), gridtui's own actors apart, and drops them once gone."""
    pid_file = cl.work / "fenced-sleeper.pid"

    def listed() -> tuple[list[str], list[str]]:
        """(actor classes, task names) the engine lists on the fenced head."""
        head = cl.run(cl.control.offload_status)["still_running"]["head"]
        return [a["class"] for a in head["actors"]], [t["name"] for t in head["tasks"]]

    def start() -> tuple[Any, int, Any]:
        import ray
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        pinned = NodeAffinitySchedulingStrategy(head_id, soft=False)

        @ray.remote(num_cpus=0)
        class FencedProbe:
            def pid(self) -> int:
                return os.getpid()

        @ray.remote(num_cpus=0)
        def fenced_sleeper(path: str) -> None:
            with open(path, "w") as f:
                f.write(str(os.getpid()))
            time.sleep(600)

        actor = FencedProbe.options(
            name="fenced-probe", namespace="fenced-test", scheduling_strategy=pinned
        ).remote()
        task = fenced_sleeper.options(scheduling_strategy=pinned).remote(str(pid_file))
        return actor, int(ray.get(actor.pid.remote(), timeout=30)), task

    actor, pid, task = cl.run(start)
    try:
        sleeper = int(until("the task runs", lambda: pid_file.exists() and pid_file.read_text()))
        until("the task is listed", lambda: "fenced_sleeper" in listed()[1])
        code, out, err = cl.cli("offload", "auto", "--status", "--json")
        assert code == 0, err
        still = json.loads(out)["still_running"]["head"]
        probe = [a for a in still["actors"] if a["class"] == "FencedProbe"]
        assert len(probe) == 1, still
        assert probe == [
            {"class": "FencedProbe", "actor_id": probe[0]["actor_id"], "cpu": 0.0, "pid": pid,
             "name": "fenced-probe"}
        ], still  # fmt: skip
        assert "GridController" in still["own"]
        assert not any(a["class"] == "GridController" for a in still["actors"])
        assert [(t["name"], t["pid"]) for t in still["tasks"]] == [("fenced_sleeper", sleeper)]
        assert "tasks_error" not in still and "error" not in still
    finally:

        def stop() -> None:
            import ray

            ray.kill(actor)
            ray.cancel(task, force=True)

        cl.run(stop)
        pid_file.unlink(missing_ok=True)

    def gone() -> bool:
        actors, tasks = listed()
        return "FencedProbe" not in actors and "fenced_sleeper" not in tasks

    until("the killed probe and the cancelled task are no longer listed", gone)


def test_memory_pressure_spills_stored_objects_off_the_head_byte_exact(
    cl: BoostCluster,
) -> None:
    from gridtui.services.memory.client import MemoryService

    svc = MemoryService(cl.config)
    scopes = {n.name: n.sample_scope for n in cl.config.nodes}
    one, two = os.urandom(3 * 1024**2 + 17), os.urandom(5 * 1024**2)
    cl.run(lambda: svc.store("spill-one", one, node="head"))
    cl.run(lambda: svc.store("spill-two", two, node="head", replicas=2))
    before = {o.key: o.nodes for o in cl.run(svc.objects)}
    assert "head" in before["spill-one"] and "head" in before["spill-two"]
    seen = cl.run(cl.control.offload_events)["seq"]
    # The head's Ray processes use far more than 1% of its declared memory: pressure.
    rule = Rule(1, sustain=0, hysteresis=0, cooldown=0)
    policy = OffloadPolicy(enabled=True, rules={"memory": rule})
    try:
        cl.run(lambda: cl.control.offload_set(policy, scopes))

        def spilled() -> list[dict[str, Any]]:
            found = cl.run(lambda: cl.control.offload_events(seen))["events"]
            return found if any(e["action"] == "spill" for e in found) else []

        events = until("the spill is done", spilled)
        after = {o.key: o for o in cl.run(svc.objects)}
        assert after["spill-one"].nodes != () and "head" not in after["spill-one"].nodes
        kept = after["spill-two"].nodes
        assert len(kept) == 2 and len(set(kept)) == 2 and "head" not in kept
        assert cl.run(lambda: svc.read("spill-one")) == one
        assert cl.run(lambda: svc.read("spill-two")) == two
        moves = [e for e in events if e["action"] == "move"]
        assert sorted(e["result"].split(" ")[1] for e in moves) == ["spill-one", "spill-two"]
        assert all(e["result"].startswith("done: ") and "head -> worker-" in e["result"]
                   for e in moves)  # fmt: skip
        spill = next(e for e in events if e["action"] == "spill")
        assert spill["result"] == "done: 2 objects moved (8.0 MiB)"
        assert spill["trigger"]["metric"] == "memory"
    finally:
        cl.run(lambda: cl.control.offload_set(OffloadPolicy(), scopes))
        cl.run(lambda: [svc.delete(k) for k in ("spill-one", "spill-two")])
    until("the memory fence is lifted", lambda: FENCE not in cl.groups())


def test_drain_then_undrain_a_worker(cl: BoostCluster) -> None:
    from gridtui.services.memory.client import MemoryService

    svc = MemoryService(cl.config)
    data = os.urandom(2 * 1024**2 + 5)
    cl.run(lambda: svc.store("drain-one", data, node="worker-2"))
    try:
        drain = cl.spawn("drain", "node", "drain", "worker-2", "--json")
        out = cl.until("the drain is done", drain.stdout)
        drain.signal(signal.SIGINT)  # just after: what it did stays, and it says so
        if drain.wait() == 130:
            assert drain.stderr().strip().endswith("interrupted; worker-2 stays drained")
        done = json.loads(out.splitlines()[-1])
        assert done["ray"] == "done: Ray drains it", done
        assert done["fence"].startswith("done") and done["spill"].startswith("done: 1 objects")
        seen = cl.probe()
        worker = seen["nodes"]["worker-2"]
        assert worker["draining"] and worker["available"].get("CPU", 0) == 0
        fence = next(g for g in seen["groups"] if g["name"] == fence_name("worker-2"))
        assert set(fence["nodes"].values()) == {worker["node_id"]}
        moved = next(o for o in cl.run(svc.objects) if o.key == "drain-one")
        assert "worker-2" not in moved.nodes and cl.run(lambda: svc.read("drain-one")) == data
        code, out, err = cl.cli("node", "drain", "worker-2")
        assert (code, out) == (1, "") and "worker-2 is drained already" in err
        assert len(problems(err)) == 1
        drained_is_refused_skipped_and_shown(cl)

        code, out, err = cl.cli("node", "undrain", "worker-2")
        assert code == 0, err
        assert out.splitlines()[0] == "undrained worker-2"
        assert out.splitlines()[-2] == (
            "  ray: kept: Ray's drain cannot be undone (Ray has no call for it): worker-2 "
            "takes no new work until Ray restarts on it, and Ray ends its raylet by itself "
            "once the node is idle"
        )
        assert out.splitlines()[-1].startswith("  to use worker-2 again, restart Ray on it: ")
        seen = cl.probe()
        assert all(g["name"] != fence_name("worker-2") for g in seen["groups"])
        # What undrain cannot undo: Ray keeps the node draining (nothing new runs there).
        assert seen["nodes"]["worker-2"]["draining"]
        events = cl.run(cl.control.offload_events)["events"]
        kinds = [(e["action"], e["node"]) for e in events if e["node"] == "worker-2"]
        assert kinds[-4:] == [
            ("fence", "worker-2"),
            ("move", "worker-2"),
            ("drain", "worker-2"),
            ("undrain", "worker-2"),
        ]
    finally:
        cl.run(lambda: svc.delete("drain-one"))
        if "worker-2" in cl.run(cl.control.offload_status)["drained"]:
            cl.run(lambda: cl.control.node_undrain("worker-2"))
        asyncio.run(restart("worker-2"))  # a new raylet: Ray's drain ends with the old one
        until("worker-2 is back", lambda: "worker-2" in cl.available())


def drained_is_refused_skipped_and_shown(cl: BoostCluster) -> None:
    """A node Ray drains: requests for it refused at once, strategies and placement skip
    it (it is the least loaded: they would pick it), status shows it draining."""
    from gridtui.services.control.client import Refused
    from gridtui.services.memory.client import MemoryService
    from gridtui.services.memory.handles import MemoryRefused

    with pytest.raises(Refused, match=r"^worker-2 is draining: it takes no new reservations$"):
        cl.run(lambda: cl.control.boost("worker-2", "memory", "64MiB"))
    svc = MemoryService(cl.config)
    with pytest.raises(MemoryRefused, match="worker-2 is draining: nothing new is stored there"):
        cl.run(lambda: svc.store("k", b"bytes", node="worker-2"))
    loads = [
        cl.run(lambda n=n: cl.control.boost(n, "memory", "256MiB")) for n in ("head", "worker-1")
    ]
    try:
        placed = cl.run(lambda: cl.control.place({"memory": 64 * 1024**2}, "load-balanced"))
        assert placed["node"] in ("head", "worker-1")
        plan = cl.run(lambda: cl.control.plan("memory", "64MiB", "load-balanced"))
        assert "worker-2" not in plan.nodes
        views = {v.name: v for v in cl.run(cl.control.node_views)}
        assert views["worker-2"].draining and not views["worker-1"].draining
    finally:
        for r in loads:
            cl.run(lambda r=r: cl.control.release(r.id))
    code, out, _ = cl.cli("demo", "status")
    assert code == 1 and "DRAINING" in next(
        ln for ln in out.splitlines() if ln.startswith("worker-2")
    )


def blocker(cl: BoostCluster) -> str:
    """A group on worker-1 that Ray's GCS is busy placing (worker-1's raylet stopped): every
    group asked after it waits in Ray, a drain's fence too."""

    def make() -> str:
        from ray.util.placement_group import placement_group

        group = placement_group(
            [{"CPU": 0.5}],
            name="test-blocker",
            bundle_label_selector=[{"gridtui.node": "worker-1"}],
        )
        return str(group.id.hex())

    return cl.run(make)


def remove(cl: BoostCluster, pg_id: str) -> None:
    def gone() -> None:
        from gridtui.actors.cluster import remove_group

        remove_group(pg_id)

    cl.run(gone)


def test_a_drain_cut_short_before_rays_drain_leaves_nothing(cl: BoostCluster) -> None:
    """Its fence waits for Ray (worker-1's raylet stopped holds the GCS); the client is cut
    short before it starts, and while the fence waits (SIGINT, SIGKILL): each time it is
    all undone (no fence, no drained mark, no Ray drain) while the fence still waits, at
    once (SIGINT) or within a lease (SIGKILL)."""
    before = cl.available()
    held = ""

    def undone() -> bool:
        drained = cl.run(cl.control.offload_status)["drained"]
        return not drained and fence_name("worker-2") not in cl.groups()

    try:
        with cl.stopped("worker-1"):
            held = blocker(cl)
            early = cl.spawn("drain-early", "node", "drain", "worker-2")
            early.signal(signal.SIGKILL)  # before: it never reaches the cluster
            early.wait()
            for sig in (signal.SIGINT, signal.SIGKILL):
                drain = cl.spawn(f"drain-{sig.name}", "node", "drain", "worker-2")
                until("its fence waits for Ray", lambda: fence_name("worker-2") in cl.groups())
                drain.signal(sig)
                code = drain.wait()
                if sig == signal.SIGINT:
                    assert code == 130 and "drain of worker-2 interrupted: undone" in drain.stderr()
                # Within a lease, the fence still unplaced: Ray's drain never came.
                cl.until("the drain is undone", undone, seconds=LEASE_SECONDS + 10)
    finally:
        if held:
            remove(cl, held)
    seen = cl.probe()
    assert not seen["nodes"]["worker-2"]["draining"]
    assert not [g for g in seen["groups"] if g["name"].startswith(("gridtui:", "test-"))]
    until("every resource is free", lambda: reservable(cl.available()) == reservable(before))
    undrains = [e for e in cl.run(cl.control.offload_events)["events"] if e["action"] == "undrain"]
    assert "before Ray's drain (its client was interrupted)" in undrains[-2]["result"]
    assert "before Ray's drain (its client stopped renewing" in undrains[-1]["result"]


def reservable(available: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
    return {
        n: {k: v for k, v in f.items() if k in ("CPU", "GPU", "memory")}
        for n, f in available.items()
    }


def test_node_drain_refuses_bad_input_in_one_line(cl: BoostCluster) -> None:
    code, out, err = cl.cli("node", "drain", "nosuch")
    assert (code, out) == (2, "") and "unknown node 'nosuch'" in err
    code, out, err = cl.cli("node", "drain", "head")
    assert (code, out) == (2, "") and "head is the head" in err
    code, out, err = cl.cli("node", "undrain", "worker-1")
    assert (code, out) == (1, "") and "worker-1 is not drained" in err
    assert len(problems(err)) == 1


def test_a_bad_threshold_leaves_the_running_policy(cl: BoostCluster) -> None:
    before = cl.run(cl.control.offload_status)
    code, out, err = cl.cli("offload", "auto", "--enable", "--threshold", "cpu=120")
    assert (code, out) == (2, "") and "120 is out of range" in err
    assert cl.run(cl.control.offload_status)["rules"] == before["rules"]


def test_disable_from_the_cli(cl: BoostCluster) -> None:
    code, out, err = cl.cli("offload", "auto", "--disable")
    assert code == 0, err
    assert out.startswith("auto-offload off")
    assert cl.run(cl.control.offload_status)["enabled"] is False


def kill_controller() -> None:
    """ray.kill, then wait until Ray has it dead (its name free again)."""
    import ray

    ray.kill(ray.get_actor(CONTROLLER_NAME, namespace=NAMESPACE))
    until("the controller is gone", lambda: _gone(ray))


def _gone(ray: Any) -> bool:
    try:
        ray.get_actor(CONTROLLER_NAME, namespace=NAMESPACE)
    except ValueError:
        return True
    return False


def _live_cpu(cl: BoostCluster) -> float:
    """The head's last sampled CPU percent (100 until there is one)."""
    live = cl.run(cl.control.offload_status)["live"].get("head")
    return 100.0 if live is None or "cpu" not in live else float(live["cpu"])


def _events(cl: BoostCluster, result: str) -> list[dict[str, Any]]:
    found = cl.run(cl.control.offload_events)["events"]
    return [e for e in found if e["result"] == result]


def _outside_loads() -> list[int]:
    """PIDs of `demo load --outside-ray` processes still running on this host."""
    from pathlib import Path

    from gridtui.services.cluster.demo_load import LOAD_CODE

    found = []
    for entry in Path("/proc").iterdir():
        with contextlib.suppress(OSError):
            if entry.name.isdigit() and LOAD_CODE.encode() in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
    return found


def problems(err: str) -> list[str]:
    """stderr's lines but the notice that the command acts on the demo (no cluster file)."""
    return [ln for ln in err.strip().splitlines() if "acting on the local demo" not in ln]


async def restart(node: str) -> None:
    """Stop Ray on one demo node by PID and start it again (a new Ray node)."""
    async with demo.demo_ops() as ops:
        await ops.stop(node, grace=2.0)
    await demo.ensure_demo_running()
