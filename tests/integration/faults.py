"""Catching a CLI process at a chosen moment of its work, then interrupting or killing it."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

# What a Ctrl-C that lands after the command's own end says (gridtui/cli.py).
LATE = "gridtui: interrupted as it exited: the command had finished; what it did stands"


def frozen_at(proc: subprocess.Popen[bytes], ready: Callable[[], bool], limit: float = 60) -> bool:
    """Poll `ready` until it holds, then SIGSTOP the process (every thread of it) there.
    False when the process ended first: the moment was missed, the caller tries again."""
    deadline = time.monotonic() + limit
    while proc.poll() is None:
        if ready():
            try:
                os.kill(proc.pid, signal.SIGSTOP)
            except ProcessLookupError:
                return False
            return True
        assert time.monotonic() < deadline, "the moment never came"
        time.sleep(0.005)
    return False


def hit(proc: subprocess.Popen[bytes], signum: int) -> None:
    """Deliver `signum` to a stopped process and let it run on to meet it."""
    proc.send_signal(signum)
    os.kill(proc.pid, signal.SIGCONT)


def writing(pid: int, directory: Path) -> Callable[[], bool]:
    """Whether the process has begun writing its retrieve: into an unnamed temporary, or
    anything that appeared in the output's directory (a named part, were it one)."""
    return lambda: unnamed_size(pid) > 0 or any(directory.iterdir())


def unnamed_size(pid: int) -> int:
    """How much the process wrote to its unnamed temporary (O_TMPFILE, shown in /proc as
    `DIR/#INODE (deleted)`): the retrieve under way; 0 while it has none."""
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return 0
    for fd in fds:
        path = f"/proc/{pid}/fd/{fd}"
        try:
            if "/#" in os.readlink(path) and os.readlink(path).endswith(" (deleted)"):
                return os.stat(path).st_size
        except OSError:
            continue
    return 0
