"""A job's output read from Ray's own log file when its node shares this machine.

Ray's job server reads a job's log through the dashboard agent of the job's node, and
that agent finds the file under the session of whichever raylet its own driver attached
to: with several raylets on one machine (the demo) that is the head's, so a job on a
co-located worker shows only the head's "Runtime env is setting up". The file itself
(`<temp dir>/session_latest/logs/job-driver-<id>.log`, written by the job's supervisor
on its node) is right there, so gridtui reads it directly; other nodes go through Ray."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from threading import Event

from gridtui.config import ClusterConfig
from gridtui.services.cluster.node_commands import temp_dir

POLL = 0.25


def local_log(config: ClusterConfig, node: str, sid: str) -> Path | None:
    """The job's log file when `node` runs on this machine (None otherwise)."""
    if not node or "/" in sid or sid.startswith("."):
        return None
    try:
        where = config.node(node)
    except Exception:
        return None
    if where.transport != "local" and not where.host.startswith("127."):
        return None
    path = Path(temp_dir(where, config)) / "session_latest" / "logs" / f"job-driver-{sid}.log"
    return path if path.is_file() else None


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8", errors="replace")


def follow(path: Path, ended: Callable[[], bool], stop: Event) -> Iterator[str]:
    """What the file holds, then what is added, until `ended()` (checked after a quiet
    read, so the last lines are never lost) or `stop` is set."""
    with path.open("r", encoding="utf-8", errors="replace") as f:
        while not stop.is_set():
            chunk = f.read()
            if chunk:
                yield chunk
                continue
            if ended():
                rest = f.read()
                if rest:
                    yield rest
                return
            time.sleep(POLL)
