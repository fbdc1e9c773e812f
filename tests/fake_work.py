"""Ray's dashboard as the Work view's tests see it: Ray-shaped answers (state API, job table)
served from memory to the real WorkService, and every call that would change the cluster
recorded. `many_actors` makes the bench's thousand."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from typing import Any

from gridtui.backend import Backend
from gridtui.model.work import SUPERVISOR_PREFIX, WorkSnapshot
from gridtui.services.work.dashboard import Dashboard
from gridtui.services.work.endpoint import JobEndpoint
from gridtui.services.work.service import WorkService

# The lab's Ray node ids (tests/recorded.py's lab_ray_view) and the trace's last instant.
NODE_IDS = {"ws": "a1" * 28, "box1": "b2" * 28, "box2": "c3" * 28, "box3": "d4" * 28}
HOSTS = {"ws": "ws.lab", "box1": "10.0.0.11", "box2": "10.0.0.12", "box3": "10.0.0.13"}
TOTAL = {"ws": 16.0, "box1": 8.0, "box2": 8.0, "box3": 4.0}
LAB_NOW = 1748856719.0
JOB_RAY_ID = "02000000"


def lab_jobs() -> list[dict[str, Any]]:
    """One running on box1, one waiting for 32 CPU (no node has that), one that ended."""
    ms = int(LAB_NOW * 1000)
    return [
        {"submission_id": "gridtui-5e1f0a", "job_id": JOB_RAY_ID, "status": "RUNNING",
         "entrypoint": "python train.py --epochs 3", "driver_node_id": NODE_IDS["box1"],
         "entrypoint_num_cpus": 1, "start_time": ms - 600_000, "driver_info": {"pid": "5511"}},
        {"submission_id": "gridtui-77aa01", "job_id": None, "status": "PENDING",
         "entrypoint": "python sweep.py", "entrypoint_num_cpus": 32,
         "start_time": ms - 60_000},
        {"submission_id": "gridtui-0c0ffe", "job_id": "01000000", "status": "SUCCEEDED",
         "entrypoint": "python prep.py", "driver_node_id": NODE_IDS["ws"],
         "start_time": ms - 3_600_000, "end_time": ms - 3_000_000},
    ]  # fmt: skip


def lab_actors() -> list[dict[str, Any]]:
    def actor(
        aid: str, cls: str, node: str, pid: int, cpu: float = 0.0, **kw: Any
    ) -> dict[str, Any]:
        return {"actor_id": aid, "class_name": cls, "state": "ALIVE", "node_id": NODE_IDS[node],
                "pid": pid, "job_id": JOB_RAY_ID, "required_resources": {"CPU": cpu} if cpu else {},
                "ray_namespace": "default", **kw}  # fmt: skip

    return [
        actor("aa01" * 8, "Trainer", "box1", 6001, 1.0, name="trainer"),
        actor("aa02" * 8, "ParameterServer", "ws", 6002, 2.0),
        actor("aa03" * 8, "Watcher", "box2", 6003),
        actor("ff01" * 8, "JobSupervisor", "box1", 5500, name=SUPERVISOR_PREFIX + "gridtui-5e1f0a",
              ray_namespace="SUPERVISOR_ACTOR_RAY_NAMESPACE"),
        actor("ee01" * 8, "GridController", "ws", 4001, ray_namespace="gridtui",
              name="gridtui-controller"),
    ]  # fmt: skip


def lab_tasks() -> list[dict[str, Any]]:
    return [
        {"task_id": "bb01" * 6, "func_or_class_name": "preprocess", "state": "RUNNING",
         "node_id": NODE_IDS["box2"], "worker_pid": 7001, "job_id": JOB_RAY_ID,
         "required_resources": {"CPU": 1.0}, "type": "NORMAL_TASK"},
    ]  # fmt: skip


def lab_nodes() -> list[dict[str, Any]]:
    return [
        {"node_id": NODE_IDS[n], "alive": n != "box3", "address": HOSTS[n], "labels": {},
         "total": {"CPU": TOTAL[n], "memory": 8.0 * 1024**3}}
        for n in NODE_IDS
    ]  # fmt: skip


def many_actors(n: int, nodes: int = 4) -> list[dict[str, Any]]:
    """`n` live actors spread over the lab's nodes, shaped as the state API gives them."""
    names = list(NODE_IDS)
    return [
        {"actor_id": f"{i:032x}", "class_name": f"Worker{i % 7}", "state": "ALIVE",
         "node_id": NODE_IDS[names[i % nodes]], "pid": 10_000 + i, "job_id": JOB_RAY_ID,
         "required_resources": {"CPU": 0.01}, "ray_namespace": "default",
         "name": f"w{i}" if i % 3 == 0 else ""}
        for i in range(n)
    ]  # fmt: skip


class FakeDashboard(Dashboard):
    """Answers from its lists; stop, submit and logs are recorded. `dead` makes every
    call fail as a dashboard that does not answer does."""

    def __init__(self) -> None:
        super().__init__(JobEndpoint("http://127.0.0.1:1"), 1.0)
        self.job_list = lab_jobs()
        self.actor_list = lab_actors()
        self.task_list = lab_tasks()
        self.group_list: list[dict[str, Any]] = []
        self.node_list = lab_nodes()
        self.calls: list[tuple[Any, ...]] = []
        self.dead = False
        self.log_text = {"gridtui-5e1f0a": "epoch 1\nepoch 2\n"}

    def _alive(self) -> None:
        if self.dead:
            from gridtui.services.work.endpoint import NoDashboard

            raise NoDashboard("Ray's dashboard at http://127.0.0.1:1 does not answer")

    def jobs(self) -> list[dict[str, Any]]:
        self._alive()
        return list(self.job_list)

    def job(self, jid: str) -> dict[str, Any]:
        self._alive()
        found = next((j for j in self.job_list if j["submission_id"] == jid), None)
        if found is None:
            from gridtui.services.control.client import NotFound

            raise NotFound(f"no job {jid!r} in Ray's job table")
        return dict(found)

    def stop(self, jid: str) -> bool:
        self._alive()
        self.calls.append(("stop", jid))
        for j in self.job_list:
            if j["submission_id"] == jid:
                j["status"] = "STOPPED"
        return True

    def submit(self, options: dict[str, Any], timeout: float = 60.0) -> str:
        self._alive()
        self.calls.append(("submit", options))
        sid = str(options["submission_id"])
        self.job_list.append({"submission_id": sid, "status": "PENDING", "job_id": None,
                              "entrypoint": options["entrypoint"]})  # fmt: skip
        return sid

    def logs(self, jid: str) -> str:
        self._alive()
        return self.log_text.get(jid, "")

    def follow(self, jid: str, stop: threading.Event | None = None) -> Iterator[str]:
        self._alive()
        yield self.log_text.get(jid, "")

    def actor_log(self, actor_id: str, tail: int = 1000) -> str:
        self._alive()
        self.calls.append(("actor_log", actor_id))
        return f"actor {actor_id[:8]} says hello\n"

    def actors(self) -> list[dict[str, Any]]:
        self._alive()
        return list(self.actor_list)

    def tasks(self, state: str = "RUNNING") -> list[dict[str, Any]]:
        self._alive()
        return list(self.task_list)

    def groups(self) -> list[dict[str, Any]]:
        self._alive()
        return list(self.group_list)

    def nodes(self) -> list[dict[str, Any]]:
        self._alive()
        return list(self.node_list)


class FakeWork(WorkService):
    """The real WorkService on a FakeDashboard; killing an actor (a driver call) is
    recorded and takes the actor out of the dashboard's list."""

    def __init__(self, backend: Backend, board: FakeDashboard | None = None) -> None:
        self.board_fake = board or FakeDashboard()
        super().__init__(backend.config, dashboard=self.board_fake, timeout=1.0)
        self.killed: list[str] = []

    async def snapshot_now(self, node: str | None = None) -> WorkSnapshot:
        """At the trace's last instant, so what the view draws is the same every run."""
        return dataclasses.replace(await super().snapshot_now(node), time=LAB_NOW)

    async def kill_actor(self, actor_id: str, name: str = "", namespace: str = "") -> None:
        self.killed.append(actor_id)
        self.board_fake.actor_list = [
            a for a in self.board_fake.actor_list if a["actor_id"] != actor_id
        ]


def attach_work(backend: Backend, work: FakeWork | None = None) -> FakeWork:
    work = work or FakeWork(backend)
    backend.attach_work(work)
    return work
