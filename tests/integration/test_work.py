"""Work on the grid on a real three-node Ray cluster (the demo, Ray's dashboard on): jobs
placed by node, their logs, stop, why a job waits, another driver's actor, orphaned groups.

Every fact is checked outside gridtui: the process tree (/proc), or an independent driver."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
from api_live import LiveApi
from boost_cluster import BoostCluster

from gridtui.agent.procfs import proc_table

pytestmark = pytest.mark.ray

LOUD = "import os, time; print('job pid', os.getpid(), flush=True); time.sleep(300)"


@pytest.fixture(scope="module")
def cl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BoostCluster]:
    cluster = BoostCluster(tmp_path_factory.mktemp("work"), dashboard=True)
    try:
        yield cluster
    finally:
        cluster.close()


def ok(cl: BoostCluster, *args: str) -> str:
    rc, out, err = cl.cli(*args)
    assert rc == 0, err
    return out


def raylet_of(cl: BoostCluster, pid: int) -> str | None:
    """The demo node whose raylet `pid` descends from, read from /proc."""
    table = proc_table()
    markers = {n.name: f"{cl.config.ray.temp_dir}/{n.name}/" for n in cl.config.nodes}
    while pid in table and pid > 1:
        ppid, _, _, argv, _ = table[pid]
        line = " ".join(argv)
        if "raylet" in (argv[0] if argv else ""):
            return next((n for n, m in markers.items() if m in line), "?")
        pid = ppid
    return None


def wait(predicate, seconds: float, what: str):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, what
        time.sleep(0.5)


def test_a_job_on_worker_2_runs_under_its_raylet_logs_come_back_and_stop_ends_it(
    cl: BoostCluster,
) -> None:
    out = ok(cl, "job", "submit", "--node", "worker-2", "--", sys.executable, "-c", LOUD)
    jid = out.strip().splitlines()[-1]

    def pid_in_logs() -> int | None:
        for line in ok(cl, "job", "logs", jid).splitlines():
            if line.startswith("job pid "):
                return int(line.split()[-1])
        return None

    pid = wait(pid_in_logs, 90, "the job's output never came back")
    assert raylet_of(cl, pid) == "worker-2"
    status = json.loads(ok(cl, "job", "status", jid, "--json"))
    assert (status["status"], status["node"]) == ("RUNNING", "worker-2")
    listed = json.loads(ok(cl, "work", "--json"))
    assert any(i["kind"] == "job" and i["name"] == jid and i["node"] == "worker-2"
               for i in listed["work"])  # fmt: skip

    # Read-only tokens read and cannot act; the job runs on.
    api = LiveApi(cl.work)
    try:
        assert api.reader.get(f"/jobs/{jid}").json()["status"] == "RUNNING"
        refused = api.reader.delete(f"/jobs/{jid}")
        assert refused.status_code == 403 and "read-only" in refused.json()["error"]
        posted = api.reader.post("/jobs", json={"command": ["true"]})
        assert posted.status_code == 403
        assert api.reader.get("/work").status_code == 200
    finally:
        api.close()
    assert os.path.exists(f"/proc/{pid}")
    assert [j["id"] for j in json.loads(ok(cl, "job", "list", "--json"))] == [jid]

    follow = subprocess.Popen(
        [sys.executable, "-m", "gridtui", "job", "logs", "--follow", jid],
        cwd=cl.work, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert follow.stdout is not None
        assert wait(lambda: "job pid" in follow.stdout.readline(), 60, "follow printed nothing")
        assert "stopping" in ok(cl, "job", "stop", jid)
        # The stream ends by itself when the job does.
        assert follow.wait(60) == 0, follow.stderr.read() if follow.stderr else ""
    finally:
        follow.kill()
    wait(lambda: not os.path.exists(f"/proc/{pid}"), 60, "stop left the job's process running")
    assert json.loads(ok(cl, "job", "status", jid, "--json"))["status"] == "STOPPED"


def test_a_job_asking_4_cpu_stays_pending_and_why_says_no_node_has_4(cl: BoostCluster) -> None:
    jid = ok(cl, "job", "submit", "--cpu", "4", "--", "true").strip().splitlines()[-1]
    try:
        time.sleep(2)  # long enough for Ray to have placed it, were there room
        assert json.loads(ok(cl, "job", "status", jid, "--json"))["status"] == "PENDING"
        why = json.loads(ok(cl, "why", jid, "--json"))
        assert why["summary"] == "no node has 4 CPU; the largest has 1" and not why["ever"]
        assert [n["node"] for n in why["nodes"]] == ["head", "worker-1", "worker-2"]
        text = ok(cl, "why", jid)
        assert "no node has 4 CPU; the largest has 1" in text.splitlines()[0]
        pending = json.loads(ok(cl, "work", "--json"))["pending"]
        assert pending[jid] == "no node has 4 CPU; the largest has 1"
    finally:
        ok(cl, "job", "stop", jid)


ACTOR = """
import sys, ray
ray.init(address=sys.argv[1], _node_ip_address="127.0.0.2", namespace="theirs",
         log_to_driver=False, logging_level="ERROR")

@ray.remote(num_cpus=0.5, resources={"node:127.0.0.3": 0.001})
class Pinned:
    def pid(self):
        import os
        return os.getpid()

a = Pinned.options(name="pinned-one").remote()
print("ready", ray.get(a.pid.remote(), timeout=60), flush=True)
sys.stdin.read()
"""

GROUP = """
import sys, ray
ray.init(address=sys.argv[1], _node_ip_address="127.0.0.2", namespace="theirs",
         log_to_driver=False, logging_level="ERROR")
for name in ("left-behind", "gridtui:boost:not-ours"):
    pg = ray.util.placement_group([{"CPU": 0.25}], lifetime="detached", name=name)
    ray.get(pg.ready(), timeout=60)
    print(name, pg.id.hex(), flush=True)
"""


def test_an_actor_started_by_another_driver_is_listed_on_its_node(cl: BoostCluster) -> None:
    other = subprocess.Popen(
        [sys.executable, "-c", ACTOR, cl.address], cwd=cl.work, stdin=subprocess.PIPE,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert other.stdout is not None
        line = other.stdout.readline()
        assert line.startswith("ready"), other.stderr.read() if other.stderr else ""
        pid = int(line.split()[1])
        snap = json.loads(ok(cl, "work", "--node", "worker-1", "--json"))
        found = [i for i in snap["work"] if i["label"] == "pinned-one"]
        assert len(found) == 1, snap
        item = found[0]
        assert (item["kind"], item["name"], item["node"], item["pid"], item["cpu"]) == (
            "actor", "Pinned", "worker-1", pid, 0.5,
        )  # fmt: skip
        assert raylet_of(cl, pid) == "worker-1"
        assert "Pinned (pinned-one)" in ok(cl, "work")
    finally:
        if other.stdin is not None:
            other.stdin.close()
        other.wait(60)


def test_a_group_left_by_an_exited_driver_is_an_orphan_and_remove_removes_it(
    cl: BoostCluster,
) -> None:
    made = subprocess.run([sys.executable, "-c", GROUP, cl.address], cwd=cl.work,
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert made.returncode == 0, made.stderr
    ids = dict(line.split() for line in made.stdout.splitlines())
    orphans = json.loads(ok(cl, "groups", "--orphans", "--json"))
    assert [(g["id"], g["name"], g["owner"], g["nodes"] != []) for g in orphans] == [
        (ids["left-behind"], "left-behind", "unknown", True)
    ]
    every = {g["name"]: g for g in json.loads(ok(cl, "groups", "--json"))}
    assert every["gridtui:boost:not-ours"]["owner"] == "boost"  # by its name: not an orphan
    rc, _, err = cl.cli("groups", "remove", ids["gridtui:boost:not-ours"])
    assert rc == 1 and "gridtui boost release" in err.strip().splitlines()[-1]
    assert "gridtui:boost:not-ours" in {g["name"] for g in cl.probe()["groups"]}
    assert "removed" in ok(cl, "groups", "remove", ids["left-behind"])
    assert "removed" in ok(cl, "groups", "remove", "--force", ids["gridtui:boost:not-ours"])
    left = {g["name"] for g in cl.probe()["groups"]}
    assert not {"left-behind", "gridtui:boost:not-ours"} & left, left
    rc, _, err = cl.cli("groups", "remove", ids["left-behind"])
    assert rc == 1 and "no placement group" in err


async def _console_side(
    cl: BoostCluster, kill: bool, pid: int | None = None
) -> tuple[str, str, int | None]:
    """The console's way: an isolated driver, and its WorkService (`remote=True`) sending
    every dashboard read (and a kill) to that driver process. The actor is the one named
    pinned-one, or the one with process `pid`."""
    from gridtui.services.ray.gateway import RayGateway
    from gridtui.services.work.remote import RemoteDashboard
    from gridtui.services.work.service import WorkService

    gateway = RayGateway(cl.config, isolated=True)
    await gateway.connect()
    work = WorkService(cl.config, gateway, remote=True)
    try:
        snap = await work.snapshot_now()
        assert isinstance(work._dashboard, RemoteDashboard)
        [item] = [
            i
            for i in snap.items
            if (i.pid == pid and i.kind == "actor" if pid else i.label == "pinned-one")
        ]
        if kill:
            await work.kill_actor(item.id, item.label, item.namespace)
        return item.node, item.name, item.pid
    finally:
        await work.close()
        await gateway.close()


@contextlib.contextmanager
def another_drivers_actor(cl: BoostCluster, named: bool = True) -> Iterator[int]:
    script = ACTOR if named else ACTOR.replace('.options(name="pinned-one")', "")
    other = subprocess.Popen(
        [sys.executable, "-c", script, cl.address], cwd=cl.work, stdin=subprocess.PIPE,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert other.stdout is not None
        line = other.stdout.readline()
        assert line.startswith("ready"), other.stderr.read() if other.stderr else ""
        yield int(line.split()[1])
    finally:
        if other.stdin is not None:
            other.stdin.close()
        other.wait(60)


def test_the_consoles_way_lists_another_drivers_actor_through_its_driver_process(
    cl: BoostCluster,
) -> None:
    with another_drivers_actor(cl) as pid:
        assert asyncio.run(_console_side(cl, kill=False)) == ("worker-1", "Pinned", pid)
        assert raylet_of(cl, pid) == "worker-1"


def test_the_consoles_way_kills_another_drivers_named_actor(cl: BoostCluster) -> None:
    # By its name and namespace (ray.get_actor, ray.kill): Ray refuses a kill by id from a
    # driver that is not the actor's owner.
    with another_drivers_actor(cl) as pid:
        asyncio.run(_console_side(cl, kill=True))
        wait(lambda: not os.path.exists(f"/proc/{pid}"), 60, "the killed actor's process ends")


def test_the_consoles_way_refuses_to_kill_another_drivers_unnamed_actor(cl: BoostCluster) -> None:
    from gridtui.errors import Refused

    with another_drivers_actor(cl, named=False) as pid:
        with pytest.raises(Refused, match="has no name: Ray lets only its owner"):
            asyncio.run(_console_side(cl, kill=True, pid=pid))
        assert os.path.exists(f"/proc/{pid}")  # nothing was done
