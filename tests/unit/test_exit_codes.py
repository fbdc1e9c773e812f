"""docs/troubleshooting.md's exit-code table, run through the real CLI: one case per row."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from gridtui.cli import build_parser
from gridtui.config import parse_config
from gridtui.services.ray import auth as ray_auth

DOC = Path(__file__).parents[2] / "docs" / "troubleshooting.md"
GRIDTUI = [sys.executable, "-m", "gridtui"]


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.2", 0))
        return int(s.getsockname()[1])


@dataclass
class World:
    """A home with cluster files: `good` (local nodes a, b; no Ray at its port), `bad`,
    `unreach` (SSH refused) and `silent` (SSH and Ray ports that accept and never speak)."""

    home: Path
    silent: socket.socket
    accepted: threading.Event

    def env(self) -> dict[str, str]:
        return {
            "HOME": str(self.home),
            "XDG_STATE_HOME": str(self.home / "state"),
            "XDG_CONFIG_HOME": str(self.home / "config"),
            "PATH": "/usr/bin:/bin",
        }


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    home = tmp_path_factory.mktemp("exit-codes")
    silent = socket.socket()
    silent.bind(("127.0.0.2", 0))
    silent.listen(64)
    port = silent.getsockname()[1]
    accepted = threading.Event()
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                conn, _ = silent.accept()
            except OSError:
                return
            held.append(conn)
            accepted.set()

    threading.Thread(target=accept, daemon=True).start()
    (home / "good.yaml").write_text(
        "nodes:\n  - {name: a, host: 127.0.0.2, transport: local, role: head}\n"
        f"  - {{name: b, host: 127.0.0.3, transport: local}}\nray: {{port: {closed_port()}}}\n"
    )
    (home / "bad.yaml").write_text("nodes: 3\n")
    ssh = "ssh: {connect_timeout: 2, use_ssh_config: false}\n"
    (home / "unreach.yaml").write_text(
        f"{ssh}nodes:\n  - {{name: a, host: 127.0.0.2, port: {closed_port()}, user: nobody}}\n"
    )
    (home / "silent.yaml").write_text(
        "ssh: {connect_timeout: 60, use_ssh_config: false}\n"
        f"nodes:\n  - {{name: a, host: 127.0.0.2, port: {port}, user: nobody}}\n"
        f"ray: {{port: {port}}}\n"
    )
    # The silent cluster's Ray token, so its job commands get as far as its SSH server.
    saved, os.environ["XDG_STATE_HOME"] = os.environ.get("XDG_STATE_HOME"), str(home / "state")
    try:
        ray_auth.ensure_token(parse_config((home / "silent.yaml").read_text()))
    finally:
        if saved is None:
            os.environ.pop("XDG_STATE_HOME")
        else:
            os.environ["XDG_STATE_HOME"] = saved
    (home / "f.bin").write_bytes(b"data")
    (home / "dir").mkdir()
    os.mkfifo(home / "fifo")
    yield World(home, silent, accepted)
    silent.close()
    for conn in held:
        conn.close()


G, B, U = "good.yaml", "bad.yaml", "unreach.yaml"
# Arabic-Indic digits: Python's int() and float() read them; gridtui refuses them.
ONE, EIGHTY = "\u0661", "\u0668\u0660"
# (the docs' command, argv, exit code, the one line said, matched from its start)
CASES: list[tuple[str, list[str], int, str]] = [
    ("gridtui", ["--bogus"], 2, "gridtui: unrecognized arguments: --bogus"),
    ("config check", ["config", "check", "-c", G], 0, ""),
    ("config check", ["config", "check", "-c", B], 2, "bad.yaml:1: nodes: expected a list"),
    ("cluster install", ["cluster", "install", "-c", U], 1, "a: 127.0.0.2:"),
    ("cluster start", ["cluster", "start", "--timeout", "0", "-c", G], 2, "gridtui cluster start"),
    ("cluster stop", ["cluster", "stop", "--grace", ONE, "-c", G], 2, "gridtui cluster stop: arg"),
    ("cluster status", ["cluster", "status", "-c", U], 1, ""),
    ("cluster logs", ["cluster", "logs", "--node", "a", "-c", U], 1, "gridtui: a: 127.0.0.2:"),
    ("demo load", ["demo", "load", "--node", "zz"], 2, "gridtui: unknown demo node 'zz'"),
    ("demo load", ["demo", "load", "--node", "head", "--cpu", ONE], 2, "gridtui demo load: arg"),
    ("boost request", ["boost", "request", "zz", "cpu", "1", "-c", G], 2, "gridtui: unknown node"),
    ("boost request", ["boost", "request", "a", "cpu", ONE, "-c", G], 2, f"gridtui: amount '{ONE}' is"),
    ("boost request", ["boost", "request", "a", "cpu", "1", "-c", G], 1, "gridtui: the Ray head at"),
    ("boost release", ["boost", "release", "x", "-c", G], 1, "gridtui: the Ray head at"),
    ("boost status", ["boost", "status", "-c", B], 2, "bad.yaml:1: nodes"),
    ("boost controller", ["boost", "controller", "-c", G], 1, "gridtui: the Ray head at"),
    ("resource-sharing request", ["resource-sharing", "request", "cpu", "1", "--strategy", "x", "-c", G], 2, "gridtui: unknown strategy"),
    ("resource-sharing release", ["resource-sharing", "release", "x", "-c", G], 1, "gridtui: the Ray"),
    ("resource-sharing status", ["resource-sharing", "status", "-c", G], 1, "gridtui: the Ray head"),
    ("node drain", ["node", "drain", "zz", "-c", G], 2, "gridtui: unknown node 'zz'"),
    ("node undrain", ["node", "undrain", "zz", "-c", G], 2, "gridtui: unknown node 'zz'"),
    ("offload auto", ["offload", "auto", "--enable", "--threshold", f"cpu={EIGHTY}", "-c", G], 2, "gridtui: --threshold"),
    ("offload auto", ["offload", "auto", "-c", G], 1, "gridtui: the Ray head at"),
    ("offload events", ["offload", "events", "-c", G], 1, "gridtui: the Ray head at"),
    ("offload watch", ["offload", "watch", "-c", B], 2, "bad.yaml:1: nodes"),
    ("memory store", ["memory", "store", "k", "f.bin", "--node", "zz", "-c", G], 2, "gridtui: unknown node 'zz' (known: a, b)"),
    ("memory store", ["memory", "store", "k", "f.bin", "--replicas", ONE, "-c", G], 2, "gridtui memory store: argument --replicas"),
    ("memory store", ["memory", "store", "k", "f.bin", "-c", G], 1, "gridtui: the Ray head at"),
    ("memory retrieve", ["memory", "retrieve", "k", "-o", "no/x", "-c", G], 1, "gridtui: cannot write no/x: no such directory no"),
    ("memory retrieve", ["memory", "retrieve", "k", "-o", "dir", "-c", G], 1, "gridtui: cannot write dir: it is a directory"),
    ("memory retrieve", ["memory", "retrieve", "k", "-o", "/proc/version", "-c", G], 1, "gridtui: cannot write /proc/version: "),
    ("memory list-objects", ["memory", "list-objects", "-c", G], 1, "gridtui: the Ray head at"),
    ("memory info", ["memory", "info", "bad key", "-c", G], 2, "gridtui: key 'bad key' has"),
    ("memory delete", ["memory", "delete", "k", "-c", G], 1, "gridtui: the Ray head at"),
    ("token create", ["token", "create", "--operator", "--name", "a b"], 2, "gridtui: bad token name"),
    ("token list", ["token", "list"], 0, ""),
    ("token revoke", ["token", "revoke", "nobody"], 2, "gridtui: no token named 'nobody'"),
    ("serve", ["serve", "--port", EIGHTY, "-c", G], 2, "gridtui serve: argument --port: expected"),
    # The good cluster has no Ray token on this machine: refused before any connection.
    ("job submit", ["job", "submit", "-c", G, "--"], 2, "gridtui: no command: give it after `--`"),
    ("job submit", ["job", "submit", "-c", G, "--cpu", ONE, "--", "true"], 2, "gridtui job submit: argument --cpu: expected"),
    ("job submit", ["job", "submit", "-c", G, "--node", "a", "--", "true"], 1, "gridtui: no Ray token for this cluster"),
    ("job list", ["job", "list", "-c", G], 1, "gridtui: no Ray token for this cluster"),
    ("job status", ["job", "status", "x", "-c", B], 2, "bad.yaml:1: nodes"),
    ("job logs", ["job", "logs", "x", "-c", G], 1, "gridtui: no Ray token for this cluster"),
    ("job stop", ["job", "stop", "x", "-c", G], 1, "gridtui: no Ray token for this cluster"),
    ("work", ["work", "--node", "zz", "-c", G], 2, "gridtui: unknown node 'zz'"),
    ("why", ["why", "x", "-c", G], 1, "gridtui: no Ray token for this cluster"),
    ("groups", ["groups", "-c", B], 2, "bad.yaml:1: nodes"),
    ("groups remove", ["groups", "remove", "x", "-c", G], 1, "gridtui: no Ray token for this cluster"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("command", "argv", "code", "said"), CASES, ids=[" ".join(c[1])[:60] for c in CASES]
)
def test_exit_code(world: World, command: str, argv: list[str], code: int, said: str) -> None:
    result = subprocess.run(
        [*GRIDTUI, *argv],
        capture_output=True, text=True, timeout=120, cwd=world.home, env=world.env(),
        stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    if said:
        assert lines[-1].strip().startswith(said), lines
        if code != 1 or not command.startswith("cluster"):  # per-node reports: a line each
            assert len(lines) == 1, lines
    assert command in documented(), f"{command!r} has no row in {DOC.name}"


def waiting_on_fifo(pid: int) -> bool:
    return Path(f"/proc/{pid}/wchan").read_text() == "wait_for_partner"


# (argv, what it waits on before the Ctrl-C, the line it ends with)
INTERRUPTS: list[tuple[list[str], str, str]] = [
    (["memory", "retrieve", "k", "-o", "fifo", "-c", "silent.yaml"], "fifo",
     "gridtui: retrieve of 'k' interrupted; nothing was written to fifo"),
    (["memory", "store", "k", "fifo", "-c", "silent.yaml"], "fifo",
     "gridtui: store of 'k' interrupted; nothing was stored"),
    (["memory", "retrieve", "k", "-o", "out", "-c", "silent.yaml"], "ray",
     "gridtui: retrieve of 'k' interrupted; nothing was written to out"),
    (["memory", "list-objects", "-c", "silent.yaml"], "ray", ""),
    (["boost", "status", "-c", "silent.yaml"], "ray", ""),
    (["cluster", "status", "-c", "silent.yaml"], "ssh", ""),
    # Ray's dashboard is reached through the head's SSH connection, which never answers.
    (["job", "list", "-c", "silent.yaml"], "ssh", ""),
    (["job", "submit", "-c", "silent.yaml", "--node", "a", "--", "true"], "ssh",
     "gridtui: job submission interrupted; nothing was submitted"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("argv", "waits", "said"), INTERRUPTS, ids=[" ".join(c[0][:3]) for c in INTERRUPTS]
)
def test_ctrl_c_is_130(world: World, argv: list[str], waits: str, said: str) -> None:
    """Interrupted while it waits (on a FIFO's other end, a Ray head or an SSH server that
    accept and never answer): 130, and the memory commands say what they left."""
    world.accepted.clear()
    proc = subprocess.Popen(
        [*GRIDTUI, *argv], cwd=world.home, env=world.env(), stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    ready: Callable[[], bool] = (
        (lambda: waiting_on_fifo(proc.pid)) if waits == "fifo" else world.accepted.is_set
    )
    try:
        deadline = time.monotonic() + 60
        while not ready():
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, f"{argv} never started waiting"
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == 130, err
    assert err.strip().splitlines() == ([said] if said else []), err
    assert not (world.home / "out").exists()


def documented() -> set[str]:
    """The commands named in the docs' exit-code table: `gridtui boost request ...`."""
    rows = re.findall(r"^\| `gridtui([^`]*)`", DOC.read_text(), re.M)
    names = set()
    for row in rows:
        words = [w for w in row.split() if re.fullmatch(r"[a-z][a-z-]*", w)]
        names.add(" ".join(words[:2]) or "gridtui")
        names.add(words[0] if words else "gridtui")
    return names


def test_every_command_has_a_row() -> None:
    parser = build_parser()
    commands = {"gridtui"}
    for action in parser._subparsers._group_actions:  # type: ignore[union-attr]
        for name, sub in action.choices.items():
            inner = [a for a in sub._actions if a.__class__.__name__ == "_SubParsersAction"]
            if not inner:
                commands.add(name)
            for group in inner:
                commands |= {f"{name} {leaf}" for leaf in group.choices}
    assert commands - documented() == set()


def test_ctrl_c_after_the_work_still_ends_interrupted() -> None:
    """A command whose task swallows the cancel (or had just finished) ends interrupted
    all the same; without a Ctrl-C the value comes back."""
    import asyncio

    from gridtui.commands import running

    async def stubborn() -> int:
        os.kill(os.getpid(), signal.SIGINT)
        with contextlib.suppress(asyncio.CancelledError):  # as a wait that swallows it
            await asyncio.sleep(30)
        return 0

    async def fine() -> int:
        return 7

    with pytest.raises(KeyboardInterrupt):
        running.run(stubborn())
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    assert running.run(fine()) == 7


LATE = """
import os, signal, sys, time
sys.argv = ["gridtui", "--version"]
from gridtui.cli import main
code = main()
os.kill(os.getpid(), signal.SIGINT)  # as the interpreter tears down
time.sleep(30)
sys.exit(code)
"""


def test_ctrl_c_as_the_process_exits_is_130() -> None:
    done = subprocess.run([sys.executable, "-c", LATE], capture_output=True, text=True, timeout=60)
    assert done.returncode == 130 and done.stdout.startswith("gridtui ")
    assert (
        done.stderr
        == "gridtui: interrupted as it exited: the command had finished; what it did stands\n"
    )


def test_a_reader_that_went_away_ends_the_command_quietly(world: World) -> None:
    """`gridtui ... | head`: a closed pipe on stdout ends the command as SIGPIPE ends
    `cat` (128 + 13), with nothing on stderr: no traceback, no "Exception ignored"."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        result = subprocess.run(
            [*GRIDTUI, "config", "check", "-c", G],
            stdout=write_end, stderr=subprocess.PIPE, text=True, timeout=120,
            cwd=world.home, env=world.env(), stdin=subprocess.DEVNULL,
        )  # fmt: skip
    finally:
        os.close(write_end)
    assert result.returncode == 128 + signal.SIGPIPE, result.stderr
    assert result.stderr == ""
    assert re.search(r"^\| 141 \|", DOC.read_text(), re.M), f"141 has no row in {DOC.name}"
