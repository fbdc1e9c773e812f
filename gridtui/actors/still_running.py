"""What still runs on fenced nodes: Ray's actor table and the samplers' task lists, when asked."""

from __future__ import annotations

import dataclasses
import math
import threading
import time
from collections.abc import Mapping
from typing import Any

import ray

from gridtui.actors import ray_private
from gridtui.actors.node_sampler import NodeSampler
from gridtui.model.still_running import StillRunning, collect, pick_tasks

STILL_SECONDS = 1.0
"""Ray's actor table (and each fenced node's processes) is read at most this often: the
status calls of every open console (each polls every 2 s) share one read."""
TASKS_TIMEOUT = 2.0
NOT_WATCHED = "not looked at: the node is not watched (its sampler reads them)"


class StillRunningReader:
    """Ray's fence keeps off only work that asks for CPU (Ray#41824): zero-CPU actors and
    tasks still start on a fenced node. This says which actors run there now (one GCS
    read) and which tasks (the node's sampler reads its workers' titles), only while a
    node is fenced and only when asked."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._found: dict[str, dict[str, Any]] = {}
        self._key: dict[str, str] = {}
        self._at = -math.inf

    def read(
        self, fenced: dict[str, str], samplers: Mapping[str, Any] | None = None
    ) -> dict[str, dict[str, Any]]:
        """{node: StillRunning record} for `fenced` ({node name: Ray node id}); tasks from
        `samplers` ({node name: NodeSampler or its actor handle})."""
        if not fenced:
            return {}
        with self._lock:
            now = time.monotonic()
            if now - self._at >= STILL_SECONDS or self._key != fenced:
                # The processes first, then the actor table: an actor started between the
                # two is in the table, so its worker is not taken for a task.
                asked = {n: _ask(h) for n, h in (samplers or {}).items() if n in fenced}
                try:
                    actors = ray_private.alive_actors()
                except Exception as exc:  # a GCS hiccup: said, not raised (status answers)
                    why = _first_line(exc)
                    gone = StillRunning(error=why, tasks_error="not told apart from actors")
                    return {n: gone.to_record() for n in fenced}
                found = {}
                for name, node_id in fenced.items():
                    tasks = _tasks(asked.get(name), actors, node_id)
                    still = dataclasses.replace(collect(actors, node_id), **tasks)
                    found[name] = still.to_record()
                self._found, self._key, self._at = found, dict(fenced), now
            return {n: dict(v) for n, v in self._found.items()}


def _ask(handle: Any) -> Any:
    """The sampler's answer (one in this process answers at once) or its ObjectRef."""
    try:
        return handle.tasks() if isinstance(handle, NodeSampler) else handle.tasks.remote()
    except Exception as exc:
        return {"error": f"its sampler did not answer: {_first_line(exc)}"}


def _tasks(asked: Any, actors: list[dict[str, Any]], node_id: str) -> dict[str, Any]:
    """StillRunning's task fields from a sampler's answer."""
    if asked is None:
        return {"tasks_error": NOT_WATCHED}
    if isinstance(asked, ray.ObjectRef):
        try:
            asked = ray.get(asked, timeout=TASKS_TIMEOUT)
        except Exception as exc:  # a slow or dead sampler
            return {"tasks_error": f"its sampler did not answer: {_first_line(exc)}"}
    if asked.get("error"):
        return {"tasks_error": str(asked["error"])}
    pids = {int(a.get("pid") or 0) for a in actors if a.get("node_id") == node_id}
    tasks, more = pick_tasks(asked.get("workers") or (), pids - {0})
    return {"tasks": tasks, "more_tasks": more}


def _first_line(exc: BaseException) -> str:
    return str(exc).splitlines()[0] if str(exc) else repr(exc)
