"""What still runs on fenced nodes, read from Ray's actor table when a status asks."""

from __future__ import annotations

import math
import threading
import time
from typing import Any

from gridtui.actors import ray_private
from gridtui.model.still_running import StillRunning, collect

STILL_SECONDS = 1.0
"""Ray's actor table is read at most this often: the status calls of every open console
(each polls every 2 s) share one read."""


class StillRunningReader:
    """Ray's fence keeps off only work that asks for CPU (Ray#41824): zero-CPU actors and
    tasks still start on a fenced node. This says which actors run there now. It costs
    one GCS read, only while a node is fenced and only when asked."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._found: dict[str, dict[str, Any]] = {}
        self._key: dict[str, str] = {}
        self._at = -math.inf

    def read(self, fenced: dict[str, str]) -> dict[str, dict[str, Any]]:
        """{node: StillRunning record} for `fenced` ({node name: Ray node id})."""
        if not fenced:
            return {}
        with self._lock:
            now = time.monotonic()
            if now - self._at >= STILL_SECONDS or self._key != fenced:
                try:
                    actors = ray_private.alive_actors()
                except Exception as exc:  # a GCS hiccup: said, not raised (status answers)
                    why = str(exc).splitlines()[0] if str(exc) else repr(exc)
                    return {n: StillRunning(error=why).to_record() for n in fenced}
                self._found = {n: collect(actors, i).to_record() for n, i in fenced.items()}
                self._key, self._at = dict(fenced), now
            return {n: dict(v) for n, v in self._found.items()}
