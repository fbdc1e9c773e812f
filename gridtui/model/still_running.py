"""What still runs on a fenced node: Ray's fence keeps off CPU work only (Ray#41824)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

OWN_NAMESPACE = "gridtui"
"""gridtui's own cluster-side actors (controller, samplers, memory index and shards)."""
CAP = 20
"""Actors (and tasks) listed per node; the rest are counted (`and N more`)."""
ID_CHARS = 8
TITLE = "ray::"
"""Ray titles a worker process `ray::<task name>` while it runs a task."""
NOT_TASKS = frozenset({"IDLE", "DashboardAgent", "RuntimeEnvAgent"})
"""Titles of Ray's own processes and of a worker between tasks (ray_constants' names)."""
IO_WORKERS = ("IDLE_", "SPILL_", "RESTORE_", "DELETE_")
"""Prefixes of Ray's object-spilling workers' titles (`ray::SPILL_SpillWorker`, ...)."""
NOT_REPORTED = "not reported (an older controller)"


def held_cpu(resources: Mapping[str, float]) -> float:
    """The CPU an actor holds while it runs: plain `CPU`, or its placement group's
    (`CPU_group_<id>` and `CPU_group_<i>_<id>` name the same CPU: the largest counts)."""
    found = [float(v) for k, v in resources.items() if k == "CPU" or k.startswith("CPU_group_")]
    return max(found, default=0.0)


@dataclass(frozen=True)
class StillActor:
    """One live actor on the node."""

    cls: str
    actor_id: str
    cpu: float
    pid: int | None = None
    name: str = ""

    def describe(self) -> str:
        named = f" {self.name!r}" if self.name else ""
        cpu = "no CPU" if self.cpu <= 0 else f"{self.cpu:g} CPU"
        pid = f", pid {self.pid}" if self.pid else ""
        return f"actor {self.cls}{named} {self.actor_id[:ID_CHARS]} ({cpu}{pid})"

    def to_record(self) -> dict[str, Any]:
        return {
            "class": self.cls,
            "actor_id": self.actor_id,
            "cpu": self.cpu,
            "pid": self.pid,
            "name": self.name,
        }

    @classmethod
    def from_record(cls, data: Mapping[str, Any]) -> StillActor:
        pid = data.get("pid")
        return cls(
            str(data.get("class", "?")),
            str(data.get("actor_id", "")),
            float(data.get("cpu", 0.0)),
            int(pid) if pid else None,
            str(data.get("name", "")),
        )


@dataclass(frozen=True)
class StillTask:
    """One task running on the node now, seen by its worker process's title."""

    name: str
    pid: int
    cpu: float | None = None
    """The worker's CPU % since the previous look (None on the first)."""

    def describe(self) -> str:
        cpu = "" if self.cpu is None else f", {self.cpu:.0f}% CPU"
        return f"task {self.name} (pid {self.pid}{cpu})"

    def to_record(self) -> dict[str, Any]:
        return {"name": self.name, "pid": self.pid, "cpu": self.cpu}

    @classmethod
    def from_record(cls, data: Mapping[str, Any]) -> StillTask:
        cpu = data.get("cpu")
        return cls(str(data.get("name", "?")), int(data.get("pid") or 0), _num(cpu))


@dataclass(frozen=True)
class StillRunning:
    """A fenced node's live actors (gridtui's own left out and named apart) and the tasks
    its workers run now."""

    actors: tuple[StillActor, ...] = ()
    more: int = 0
    """Actors past the cap, not listed."""
    own: tuple[str, ...] = ()
    """Class names of gridtui's own actors there (not the user's work)."""
    error: str = ""
    """Why Ray's actor table could not be read (then nothing is known)."""
    tasks: tuple[StillTask, ...] = ()
    more_tasks: int = 0
    """Tasks past the cap, not listed."""
    tasks_error: str = ""
    """Why the node's tasks are not known ("" when they were looked at)."""

    def lines(self, cap: int | None = None, hint: str = "") -> list[str]:
        """One line per actor, then per task, each list cut at `cap` with `and N more`
        (`hint` after it); `nothing else runs there` when both are known and empty."""
        if self.error:
            return [f"unknown: Ray's actor table could not be read: {self.error}"]
        out = _capped([a.describe() for a in self.actors], self.more, cap, "", hint)
        if self.tasks_error:
            out.append(f"tasks unknown: {self.tasks_error}")
        else:
            tasks = [t.describe() for t in self.tasks]
            out += _capped(tasks, self.more_tasks, cap, " tasks" if out else "", hint)
        if not out:
            out.append("nothing else runs there")
        return out

    def own_note(self) -> str:
        if not self.own:
            return ""
        counts: dict[str, int] = {}
        for name in self.own:
            counts[name] = counts.get(name, 0) + 1
        what = ", ".join(f"{n} x{c}" if c > 1 else n for n, c in sorted(counts.items()))
        return f"gridtui's own, not listed: {what}"

    def to_record(self) -> dict[str, Any]:
        return {
            "actors": [a.to_record() for a in self.actors],
            "more": self.more,
            "own": list(self.own),
            **({"error": self.error} if self.error else {}),
            "tasks": [t.to_record() for t in self.tasks],
            "more_tasks": self.more_tasks,
            **({"tasks_error": self.tasks_error} if self.tasks_error else {}),
        }

    @classmethod
    def from_record(cls, data: Mapping[str, Any]) -> StillRunning:
        """A record without `tasks` (a controller older than the task list) says so."""
        told = "tasks" in data
        return cls(
            tuple(StillActor.from_record(a) for a in data.get("actors") or ()),
            int(data.get("more") or 0),
            tuple(str(n) for n in data.get("own") or ()),
            str(data.get("error") or ""),
            tuple(StillTask.from_record(t) for t in data.get("tasks") or ()),
            int(data.get("more_tasks") or 0),
            str(data.get("tasks_error") or "") if told else NOT_REPORTED,
        )


def _capped(lines: list[str], more: int, cap: int | None, what: str, hint: str) -> list[str]:
    shown = lines if cap is None else lines[:cap]
    hidden = len(lines) - len(shown) + more
    if hidden:
        shown = [*shown, f"and {hidden} more{what}" + (f" {hint}" if hint else "")]
    return shown


def _num(value: Any) -> float | None:
    return None if value is None else float(value)


def short_class(name: str) -> str:
    """`FencedProbe` of `f.<locals>.FencedProbe` (Ray keeps a class's qualified name)."""
    return name.rpartition(".")[2] or name or "?"


def collect(actors: Iterable[Mapping[str, Any]], node_id: str, cap: int = CAP) -> StillRunning:
    """The actors Ray's table puts on `node_id` (entries as ray_private.alive_actors gives
    them): those that hold no CPU first (what the fence cannot keep off), then by class."""
    mine, own = [], []
    for a in actors:
        if a.get("node_id") != node_id:
            continue
        if a.get("namespace") == OWN_NAMESPACE:
            own.append(short_class(str(a.get("class", ""))))
            continue
        pid = int(a.get("pid") or 0)
        mine.append(
            StillActor(
                short_class(str(a.get("class", ""))),
                str(a.get("actor_id", "")),
                held_cpu(a.get("resources") or {}),
                pid or None,
                str(a.get("name", "")),
            )
        )
    mine.sort(key=lambda x: (x.cpu > 0, x.cls, x.actor_id))
    return StillRunning(tuple(mine[:cap]), max(0, len(mine) - cap), tuple(sorted(own)))


def task_name(argv: Iterable[str]) -> str | None:
    """The task a Ray worker process runs now, from its command line (the title Ray
    sets), or None: not a worker, between tasks, or one of Ray's own processes."""
    first = next(iter(argv), "")
    if not first.startswith(TITLE):
        return None
    name = first[len(TITLE) :].strip()
    if not name or name in NOT_TASKS or name.startswith(IO_WORKERS):
        return None
    return name


def pick_tasks(
    workers: Iterable[Mapping[str, Any]], actor_pids: Iterable[int], cap: int = CAP
) -> tuple[tuple[StillTask, ...], int]:
    """(tasks, how many past the cap) from a node's titled processes (`pid`, `argv`,
    `cpu` as the sampler reads them), leaving out the actors' processes: an actor's
    worker is titled `ray::Class` or `ray::Class.method`, listed as an actor already."""
    skip = set(actor_pids)
    found = []
    for w in workers:
        pid = int(w.get("pid") or 0)
        name = task_name(w.get("argv") or ())
        if name is None or pid in skip:
            continue
        found.append(StillTask(name, pid, _num(w.get("cpu"))))
    found.sort(key=lambda t: (t.name, t.pid))
    return tuple(found[:cap]), max(0, len(found) - cap)
