"""Boosts and shared allocations on a real three-node Ray cluster (the demo), end to end.

On the shared demo (conftest.py); the tests run in file order and the last one kills a
worker (the fixture starts it again at the module's end)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from api_live import LiveApi
from boost_cluster import ROOT, BoostCluster, Client

from gridtui.actors.upkeep import LEASE_SECONDS
from gridtui.agent import nodescript
from gridtui.backend.checks import check_request
from gridtui.cli import main
from gridtui.client import Held
from gridtui.errors import GridError
from gridtui.model.reservations import Reservation, ReservationEvent, ReservationsSnapshot
from gridtui.policy.scheduler import Placement
from gridtui.services.control.client import (
    CONTROLLER_NAME,
    NAMESPACE,
    BadRequest,
    ControlClient,
    ControllerMismatch,
    Refused,
)
from gridtui.services.control.feed import ControlService

pytestmark = pytest.mark.ray
# Last on the shared demo: a worker's death stays in the controller's events, and a console
# opened after shows it as an error, which the console tests count as theirs.
SHARED_DEMO_ORDER = 1


@pytest.fixture(scope="module")
def cl(shared_demo: BoostCluster) -> BoostCluster:
    return shared_demo


def node_of(cl: BoostCluster, fn_options: dict[str, Any]) -> str:
    """The Ray node id a task run with these options ran on."""

    def run() -> str:
        import ray

        @ray.remote
        def where() -> str:
            return ray.get_runtime_context().get_node_id()

        return str(ray.get(where.options(**fn_options).remote(), timeout=60))

    return cl.run(run)


def reservable(available: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
    """The reservable part of each node's available resources (not the object store)."""
    return {
        node: {k: v for k, v in free.items() if k in ("CPU", "GPU", "memory")}
        for node, free in available.items()
    }


def kill_controller() -> None:
    """ray.kill, then wait until Ray has it dead (its name free again)."""
    import ray

    ray.kill(ray.get_actor(CONTROLLER_NAME, namespace=NAMESPACE))
    deadline = time.monotonic() + 30
    while True:
        try:
            ray.get_actor(CONTROLLER_NAME, namespace=NAMESPACE)
        except ValueError:
            return
        assert time.monotonic() < deadline
        time.sleep(0.1)


def wait_for(cl: BoostCluster, rid: str, state: str, seconds: float) -> Reservation:
    deadline = time.monotonic() + seconds
    while True:
        found = {r.id: r for r in cl.run(lambda: cl.control.reservations(history=True))}
        if rid in found and found[rid].state == state:
            return found[rid]
        assert time.monotonic() < deadline, f"{rid} never became {state}: {found.get(rid)}"
        time.sleep(0.5)


def test_a_boost_on_a_worker_is_a_pinned_group_any_driver_sees(cl: BoostCluster) -> None:
    before = cl.available()
    code, out, err = cl.cli("boost", "request", "worker-1", "cpu", "1", "--ttl", "30m", "--json")
    assert code == 0, err
    assert "acting on the local demo cluster" in err
    boost = json.loads(out)
    assert set(boost) >= {"id", "node", "type", "amount", "state", "created", "expires"}
    assert (boost["node"], boost["type"], boost["amount"], boost["state"]) == (
        "worker-1", "cpu", 1.0, "active",
    )  # fmt: skip
    assert boost["expires"] - boost["created"] == pytest.approx(1800)

    # The CLI process is gone; another driver sees the group on exactly worker-1.
    seen = cl.probe()
    group = next(g for g in seen["groups"] if g["name"] == f"gridtui:boost:{boost['id']}")
    assert group["state"] == "CREATED" and group["strategy"] == "STRICT_PACK"
    assert group["bundles"] == {"0": {"CPU": 1.0}}
    assert group["nodes"] == {"0": seen["nodes"]["worker-1"]["node_id"]}
    assert seen["nodes"]["worker-1"]["available"].get("CPU", 0.0) == before["worker-1"]["CPU"] - 1
    assert seen["nodes"]["worker-2"]["available"]["CPU"] == before["worker-2"]["CPU"]

    # A task run with the API's options for it runs on worker-1.
    held = Held(next(r for r in cl.run(cl.control.reservations) if r.id == boost["id"]))
    assert node_of(cl, held.options()) == seen["nodes"]["worker-1"]["node_id"]

    code, out, err = cl.cli("boost", "status", "--json")
    assert code == 0, err
    assert [b["id"] for b in json.loads(out)] == [boost["id"]]

    code, out, err = cl.cli("boost", "release", boost["id"])
    assert code == 0 and f"released {boost['id']}" in out, err
    after = cl.probe()
    assert not [g for g in after["groups"] if g["name"].startswith("gridtui:")]
    assert reservable({n: v["available"] for n, v in after["nodes"].items()}) == reservable(before)

    code, out, _ = cl.cli("boost", "release", boost["id"])
    assert code == 0 and "already released" in out


MALFORMED = [
    (("worker-1", "disk", "1"), "unknown type 'disk' (one of: cpu, gpu, memory)"),
    (("worker-1", "cpu", "0"), "amount must be positive, not 0"),
    (("worker-1", "cpu", "-1"), "amount must be positive, not -1"),
    (("worker-1", "cpu", "nan"), "amount NaN is not a number"),
    (("worker-1", "cpu", "lots"), "amount 'lots' is not a number or a size such as 4GiB"),
    (("worker-1", "memory", "4XB"), "unknown size unit 'xb'"),
    (("worker-1", "cpu", "1", "--ttl", "5x"), "TTL '5x' is not a duration such as 30m"),
    (("worker-9", "cpu", "1"), "unknown node 'worker-9' (known: head, worker-1, worker-2)"),
]


def test_every_refusal_is_one_line_and_leaves_nothing(
    cl: BoostCluster, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    groups, listed = cl.groups(), cl.run(lambda: cl.control.reservations(history=True))
    for args, message in MALFORMED:
        # In-process: a malformed request is refused before any Ray driver would start.
        code = main(["boost", "request", *args])
        err = capsys.readouterr().err
        assert code == 2, (args, err)
        last = err.strip().splitlines()[-1]
        assert last == f"gridtui: {message}" or last.startswith(f"gridtui: {message}"), last

    # Refused by the cluster (exit 1): more than free, a node Ray does not have.
    held = cl.run(lambda: cl.control.boost("worker-2", "cpu", 0.5))
    code, _, err = cl.cli("boost", "request", "worker-2", "cpu", "1")
    assert code == 1
    assert err.strip().splitlines()[-1] == (
        "gridtui: worker-2 has 0.5 CPU free (of 1 CPU); asked 1 CPU"
    )
    code, _, err = cl.cli("boost", "request", "head", "memory", "2GiB")
    assert (code, err.strip().splitlines()[-1]) == (
        1, "gridtui: head has 1 GiB free (of 1 GiB); asked 2 GiB",
    )  # fmt: skip
    code, _, err = cl.cli("boost", "request", "worker-1", "gpu", "1")
    assert (code, err.strip().splitlines()[-1]) == (1, "gridtui: worker-1 has no GPU in Ray")
    code, _, err = cl.cli("boost", "release", "b999")
    assert code == 1 and "gridtui: no reservation 'b999'" in err

    extra = cl.config.model_dump(mode="json", exclude_defaults=True)
    extra["nodes"].append({**extra["nodes"][-1], "name": "worker-3", "host": "127.0.0.5"})
    extra["demo"] = False
    path = tmp_path / "four.yaml"
    path.write_text(json.dumps(extra))
    code, _, err = cl.cli("boost", "request", "-c", str(path), "worker-3", "cpu", "1")
    assert (code, err.strip().splitlines()[-1]) == (
        1,
        "gridtui: worker-3 is not alive in Ray (Ray has no node of that name)",
    )

    # The service raises the same classes the CLI maps to exit codes.
    with pytest.raises(BadRequest, match="TTL"):
        cl.run(lambda: cl.control.boost("worker-1", "cpu", 1, ttl="-5m"))
    with pytest.raises(Refused, match=r"only 2\.5 CPU free on eligible nodes"):
        cl.run(lambda: cl.control.share("cpu", 3, "best-fit"))

    cl.run(lambda: cl.control.release(held.id))
    assert cl.groups() == groups
    now = cl.run(lambda: cl.control.reservations(history=True))
    assert [r.id for r in now] == [r.id for r in listed] + [held.id]


RACER = """
import json, sys, time, pathlib
from gridtui import client
from gridtui.errors import GridError
grid = client.connect()
go = pathlib.Path(sys.argv[1])
pathlib.Path(sys.argv[2]).touch()
while not go.exists():
    time.sleep(0.01)
try:
    print(json.dumps({"id": grid.boost("worker-2", "cpu", 1).id}))
except GridError as exc:
    print(json.dumps({"error": exc.summary}))
"""


def test_two_clients_racing_for_the_last_cpu(cl: BoostCluster, tmp_path: Path) -> None:
    go = tmp_path / "go"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", RACER, str(go), str(tmp_path / f"ready{i}")],
            cwd=cl.work,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(2)
    ]
    deadline = time.monotonic() + 90
    while not all((tmp_path / f"ready{i}").exists() for i in range(2)):
        assert time.monotonic() < deadline and all(p.poll() is None for p in procs)
        time.sleep(0.05)
    go.touch()
    answers = [json.loads(p.communicate(timeout=90)[0].strip().splitlines()[-1]) for p in procs]
    won = [a for a in answers if "id" in a]
    lost = [a for a in answers if "error" in a]
    assert len(won) == 1 and len(lost) == 1, answers
    assert lost[0]["error"] == "worker-2 has 0 CPU free (of 1 CPU); asked 1 CPU"
    assert list(cl.groups()) == [f"gridtui:boost:{won[0]['id']}"]
    cl.run(lambda: cl.control.release(won[0]["id"]))


def test_a_ttl_expires_it(cl: BoostCluster) -> None:
    before = cl.available()
    boost = cl.run(lambda: cl.control.boost("worker-1", "memory", "256MiB", ttl="3s"))
    listed = {r.id: r for r in cl.run(cl.control.reservations)}
    assert listed[boost.id].state == "expiring"  # inside its last minute from the start
    assert cl.available()["worker-1"]["memory"] == before["worker-1"]["memory"] - 256 * 1024**2
    gone = wait_for(cl, boost.id, "released", 20)
    assert gone.note == "expired"
    assert f"gridtui:boost:{boost.id}" not in cl.groups()
    # Ray's free figures follow a removal a moment later; the controller's loop does not
    # hold its lock waiting for them (an explicit release waits, outside the lock).
    cl.until("its memory is free again", lambda: reservable(cl.available()) == reservable(before))
    kinds = [e.kind for e in cl.run(cl.control.events) if e.reservation == boost.id]
    assert kinds[-3:] == ["created", "expiring", "expired"]


def test_sharing_end_to_end(cl: BoostCluster) -> None:
    code, out, err = cl.cli("resource-sharing", "request", "cpu", "2", "--strategy", "spread")
    assert code == 0, err
    first, reason = out.strip().splitlines()
    rid = first.split()[0]
    assert re.fullmatch(r"s\d+ on \S+ \(1 CPU\), \S+ \(1 CPU\)", first), first
    assert reason.strip() == (
        "spread: even over 2 of 3 eligible nodes; Ray figures only (no live metrics)"
    )
    share = next(r for r in cl.run(cl.control.reservations) if r.id == rid)
    group = cl.groups()[f"gridtui:share:{rid}"]
    assert group["strategy"] == "STRICT_SPREAD"
    assert sorted(group["bundles_to_node_id"].values()) == sorted(b.node_id for b in share.bundles)
    for i, bundle in enumerate(share.bundles):
        assert node_of(cl, Held(share).options(bundle=i)) == bundle.node_id

    code, out, err = cl.cli("resource-sharing", "status", "--json")
    assert code == 0 and [s["id"] for s in json.loads(out)] == [rid]
    assert cl.cli("resource-sharing", "release", rid)[0] == 0
    assert cl.groups() == {}


def test_the_console_service_publishes_snapshots_and_events(cl: BoostCluster) -> None:
    """What the Boosts pane reads: snapshots (with per-node reserved figures) and events."""
    service = ControlService(cl.gateway, ControlClient(cl.config, owner="console"))
    snapshots: list[ReservationsSnapshot] = []
    events: list[ReservationEvent] = []
    service.subscribe(snapshots.append)
    service.subscribe_events(events.append)

    async def go() -> tuple[Reservation, Placement]:
        await service.refresh()  # the events so far: not what this test looks at
        events.clear()
        plan = await service.plan("cpu", 2, "spread")
        # Checked where it enters the services (the facade), as every front does.
        boost = await service.boost("worker-2", check_request("cpu", "0.5", "1h"))
        await service.refresh()
        await service.release(boost.id)
        await service.refresh()
        return boost, plan

    boost, plan = asyncio.run(go())
    assert len(plan.bundles) == 2 and plan.reason.startswith("even over 2 of 3")
    assert cl.groups() == {}  # the preview reserved nothing
    held, gone = snapshots[-2], snapshots[-1]
    assert held.connected and held.controller_version == "0.1.0"
    assert [r.id for r in held.reservations] == [boost.id]
    assert held.reserved() == {"worker-2": {"cpu": 0.5}}
    assert gone.reservations == () and gone.history[-1].id == boost.id
    assert [(e.kind, e.reservation) for e in events] == [
        ("created", boost.id), ("released", boost.id),
    ]  # fmt: skip


def test_killing_the_controller_keeps_every_reservation(cl: BoostCluster) -> None:
    boost = cl.run(lambda: cl.control.boost("worker-1", "cpu", 0.5, ttl="10m"))
    share = cl.run(lambda: cl.control.share("memory", "128MiB", "load-balanced", ttl="1h"))
    old = cl.run(cl.control.info)
    cl.run(kill_controller)
    new = cl.run(cl.control.info)  # the next call finds it gone and creates another
    assert new.epoch != old.epoch and new.rebuilt["restored"] == 2
    after = {r.id: r for r in cl.run(cl.control.reservations)}
    for before in (boost, share):
        again = after[before.id]
        assert (again.state, again.expires, again.bundles, again.owner) == (
            "active", before.expires, before.bundles, before.owner,
        )  # fmt: skip

    # A controller of another version is reported, never used; --replace swaps it.
    def old_version() -> None:
        kill_controller()
        stale = ControlClient(cl.config, version="0.0.0-old")
        stale.info()

    cl.run(old_version)
    fresh = ControlClient(cl.config, owner="test")
    with pytest.raises(ControllerMismatch, match=r"runs gridtui 0\.0\.0-old, this is 0\.1\.0"):
        cl.run(fresh.info)
    code, out, err = cl.cli("boost", "controller", "--replace", "--json")
    assert code == 0, err
    assert json.loads(out)["version"] == "0.1.0" and json.loads(out)["rebuilt"]["restored"] == 2
    cl.control = fresh
    assert {r.id for r in cl.run(fresh.reservations)} == {boost.id, share.id}
    for r in (boost, share):
        cl.run(lambda r=r: fresh.release(r.id))


def test_the_docs_example_runs(cl: BoostCluster) -> None:
    text = (ROOT / "docs" / "boosts.md").read_text()
    code = "\n".join(re.findall(r"```python\n(.*?)```", text, re.S))
    assert "client.connect()" in code
    proc = cl.python(code)
    assert proc.returncode == 0, proc.stderr
    assert "ran on worker-1" in proc.stdout
    assert cl.groups() == {}


@pytest.fixture(scope="module")
def api(cl: BoostCluster) -> Iterator[LiveApi]:
    """`gridtui serve` on the demo (no cluster file: the lookup finds the demo)."""
    server = LiveApi(cl.work)
    try:
        yield server
    finally:
        server.close()


def test_the_rest_api_is_the_same_cluster_the_cli_sees(cl: BoostCluster, api: LiveApi) -> None:
    op = api.operator
    nodes = op.get("/nodes").json()
    assert [n["name"] for n in nodes["nodes"]] == ["head", "worker-1", "worker-2"]
    status = op.get("/cluster").json()
    assert status["healthy"], status
    for path in ("/sharing", "/memory", "/offload/policy", "/offload/events"):
        assert op.get(path).status_code == 200, path
    placed = op.post("/place", json={"cpu": 1}).json()
    assert placed["node"] in {"head", "worker-1", "worker-2"}

    r = op.post("/boosts", json={"node": "worker-2", "type": "cpu", "amount": 1, "ttl": "30m"})
    assert r.status_code == 201, r.text
    boost = r.json()
    seen = cl.probe()  # another driver: the group the HTTP request made, on worker-2
    group = next(g for g in seen["groups"] if g["name"] == f"gridtui:boost:{boost['id']}")
    assert group["nodes"] == {"0": seen["nodes"]["worker-2"]["node_id"]}
    code, out, err = cl.cli("boost", "status", "--json")
    assert code == 0 and [b["id"] for b in json.loads(out)] == [boost["id"]], err
    assert boost["id"] in {b["id"] for b in op.get("/boosts").json()}
    assert op.delete(f"/boosts/{boost['id']}").json()["state"] == "released"
    assert op.delete("/boosts/nope").status_code == 404
    assert cl.groups() == {}

    data = os.urandom(9 * 1024**2 + 7)  # a few chunks and a partial one, streamed both ways
    r = op.put(
        "/memory/api/obj", content=iter([data[i : i + 65536] for i in range(0, len(data), 65536)])
    )
    assert r.status_code == 201, r.text
    assert r.json()["size"] == len(data)
    again = op.put("/memory/api%2Fobj", content=b"x")  # the same key, percent-encoded
    assert again.status_code == 409 and "exists" in again.json()["error"]
    with op.stream("GET", "/memory/api/obj") as got:
        assert got.status_code == 200
        back = b"".join(got.iter_bytes())
    assert back == data
    assert op.get("/memory-info/api%2Fobj").json()["sha256"] == got.headers["x-gridtui-sha256"]
    assert op.delete("/memory/api/obj").status_code == 200
    assert op.get("/memory-info/api/obj").status_code == 404


def test_the_rest_api_refuses_read_only_tokens_and_bad_input(
    cl: BoostCluster, api: LiveApi
) -> None:
    before = cl.groups()
    ro, op = api.reader, api.operator
    for method, path, body in [
        ("POST", "/boosts", {"node": "worker-1", "type": "cpu", "amount": 1}),
        ("POST", "/sharing", {"type": "cpu", "amount": 1}),
        ("DELETE", "/boosts/x", None),
        ("DELETE", "/sharing/x", None),
        ("PUT", "/offload/policy", {"enabled": True}),
        ("DELETE", "/memory/k", None),
    ]:
        r = ro.request(method, path, json=body)
        assert r.status_code == 403 and "read-only" in r.json()["error"], (path, r.text)
    assert ro.put("/memory/k", content=b"bytes").status_code == 403
    assert ro.get("/boosts").status_code == 200
    with api.client(None) as anonymous:
        assert anonymous.get("/nodes").status_code == 401
    bad = [
        op.post("/boosts", content=b"{oops", headers={"Content-Type": "application/json"}),
        op.post("/boosts", json={"node": "worker-1", "type": "cpu", "amount": True}),
        op.post("/boosts", json={"node": "worker-1", "type": "cpu", "amount": "x" * 70000}),
        op.put("/memory/%2E%2E", content=b"x"),
    ]
    assert [r.status_code for r in bad] == [400, 400, 413, 400]
    assert "malformed JSON body" in bad[0].json()["error"]
    assert cl.groups() == before
    assert [o for o in op.get("/memory").json()["objects"]] == []

    # The live stream: a snapshot of the three nodes first.
    with op.stream("GET", "/events") as events:
        lines = events.iter_lines()
        assert next(lines) == "event: snapshot"
        snapshot = json.loads(next(lines).removeprefix("data: "))
    assert [n["name"] for n in snapshot["nodes"]] == ["head", "worker-1", "worker-2"]


def test_the_api_docs_curl_examples_run(cl: BoostCluster, api: LiveApi) -> None:
    text = (ROOT / "docs" / "api.md").read_text()
    script = "\n".join(re.findall(r"```bash\n(.*?)```", text, re.S))
    assert "curl" in script
    env = dict(os.environ, TOKEN=api.op_token, GRIDTUI_API=api.url)
    proc = subprocess.run(
        ["bash", "-euc", script], env=env, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    assert "event: snapshot" in proc.stdout
    assert cl.groups() == {}
    assert api.operator.get("/memory").json()["objects"] == []


def pending_of(cl: BoostCluster, client: Client) -> Reservation | None:
    """The client's request as the controller holds it while Ray has not placed it."""
    found = cl.run(cl.control.reservations)
    return next((r for r in found if client.owner in r.owner and r.state == "pending"), None)


def held_ids(cl: BoostCluster) -> tuple[set[str], set[str]]:
    """(ids of live gridtui groups, ids of controller records): the in-process driver's look."""
    groups = {n.rpartition(":")[2] for n in cl.groups()}
    return groups, {r.id for r in cl.run(cl.control.reservations)}


WAITS = "waiting for Ray: another placement group is pending on worker-1"


def interrupted(client: Client) -> bool:
    """Ctrl-C while it waited: exit 130 and one line saying nothing was reserved."""
    code = client.wait()
    last = client.stderr().strip().splitlines()[-1]
    return code == 130 and last.endswith("request interrupted; nothing was reserved")


def test_requests_cut_short_leave_nothing_and_block_nobody(cl: BoostCluster) -> None:
    """A boost pending on a stopped raylet holds every later group up in Ray: they wait,
    say why, and status, release and the memory store answer meanwhile. Boosts and shares
    cut short (SIGINT, SIGKILL) before, during and just after their request leave nothing
    but what they printed."""
    before = cl.available()
    held = cl.run(lambda: cl.control.boost("worker-2", "cpu", 0.5))
    # Just after: its id printed, so it stays, claimed (no lease to lapse): checked last.
    after = cl.spawn("after", "boost", "request", "worker-2", "cpu", "0.5")
    rid = cl.until("its id is printed", lambda: after.stdout().strip())
    after.signal(signal.SIGINT)
    cut = time.monotonic()
    if after.wait() == 130:
        assert after.stderr().strip().endswith(f"interrupted; {rid} stays reserved "
                                               f"(`gridtui boost release {rid}`)")  # fmt: skip
    wait = ("--timeout", "300")  # far beyond what the checks below allow themselves
    with cl.stopped("worker-1"):
        early = cl.spawn("early", "boost", "request", "head", "cpu", "0.5")
        early.signal(signal.SIGKILL)  # before: it never reaches the cluster
        blocker = cl.spawn("blocker", "boost", "request", "worker-1", "cpu", "1", *wait)
        cl.until("the blocker is pending", lambda: pending_of(cl, blocker))
        ints = [
            cl.spawn("boost-int", "boost", "request", "head", "cpu", "0.5", *wait),
            cl.spawn("share-int", "resource-sharing", "request", "memory", "64MiB", *wait),
        ]
        kills = [blocker,
                 cl.spawn("boost-kill", "boost", "request", "head", "cpu", "0.25", *wait),
                 cl.spawn("share-kill", "resource-sharing", "request", "memory", "64MiB", *wait)]  # fmt: skip
        for client in (*ints, *kills):
            cl.until("it is pending", lambda client=client: pending_of(cl, client))
        cl.until("it says why it waits", lambda: WAITS in ints[0].stderr())
        waiting = pending_of(cl, ints[0])
        assert waiting is not None and waiting.waiting == WAITS  # what the Boosts pane shows
        # Nothing else waits behind them: each call gets 60 s, they wait up to 300.
        from gridtui.services.memory.client import MemoryService

        assert held.id in {r.id for r in cl.run(cl.control.reservations, timeout=60)}
        assert cl.run(lambda: cl.control.release(held.id), timeout=60).already is False
        assert cl.run(MemoryService(cl.config).objects, timeout=60) == []
        for client in ints:
            client.signal(signal.SIGINT)
        for client in kills:
            client.signal(signal.SIGKILL)
        assert all(interrupted(client) for client in ints)
        # Gone while Ray still cannot place them: at once (SIGINT), or their lease lapsed.
        cl.until("only the printed boost is left", lambda: held_ids(cl) == ({rid}, {rid}),
                 seconds=LEASE_SECONDS + 10)  # fmt: skip
    early.wait()
    time.sleep(max(0.0, cut + LEASE_SECONDS + 2 - time.monotonic()))  # a lease since its cut
    assert held_ids(cl) == ({rid}, {rid})
    assert cl.run(lambda: cl.control.release(rid)).reservation.state == "released"
    # Ray gives the stopped raylet's share back once it answers again.
    cl.until("every resource is free", lambda: reservable(cl.available()) == reservable(before))
    seen = cl.probe()  # another driver confirms it: no group, every resource free
    assert not [g for g in seen["groups"] if g["name"].startswith("gridtui:")]
    assert reservable({n: v["available"] for n, v in seen["nodes"].items()}) == reservable(before)
    assert cl.run(cl.control.reservations) == []


def test_a_worker_that_dies_marks_its_boost_lost(cl: BoostCluster) -> None:
    boost = cl.run(lambda: cl.control.boost("worker-1", "cpu", 1))
    cl.run(cl.control.events)  # only what happens from here on
    pids, _ = nodescript.find_pids([f"{cl.config.ray.temp_dir}/worker-1"])
    assert pids
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    # Ray declares a SIGKILLed raylet dead after ~12 s; the controller's loop follows.
    lost = wait_for(cl, boost.id, "lost", 45)
    assert lost.note == "worker-1 died"
    assert cl.groups() == {}
    events = [e for e in cl.run(cl.control.events) if e.reservation == boost.id]
    assert [(e.kind, e.severity) for e in events] == [("lost", "error")]
    with pytest.raises(GridError, match="worker-1 is not alive in Ray"):
        cl.run(lambda: cl.control.boost("worker-1", "cpu", 1))
    assert cl.run(lambda: cl.control.release(boost.id)).reservation.state == "released"
