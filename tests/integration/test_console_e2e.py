"""End to end: `gridtui -c FILE` in a real terminal (tmux) against three SSH nodes."""

from __future__ import annotations

import asyncio
import re
import shlex
import shutil
import sys
import uuid
from pathlib import Path

import pytest
from sshd import SshCluster

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")

GRIDTUI = Path(sys.executable).with_name("gridtui")


SOCKET = f"gridtui-e2e-{uuid.uuid4().hex[:8]}"  # a private tmux server: no one else's sizes


async def tmux(*args: str) -> str:
    proc = await asyncio.create_subprocess_exec(
        "tmux",
        "-L",
        SOCKET,
        "-f",
        "/dev/null",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, _ = await proc.communicate()
    return out.decode(errors="replace")


async def wait_for_screen(session: str, predicate, timeout: float = 60.0) -> str:
    screen = ""
    for _ in range(int(timeout / 0.25)):
        screen = await tmux("capture-pane", "-p", "-t", session)
        if predicate(screen):
            return screen
        await asyncio.sleep(0.25)  # the SSH servers live on this loop: keep it turning
    raise AssertionError(f"screen never matched; last screen:\n{screen}")


def row_shows_figures(screen: str, name: str) -> bool:
    # The node's own row in the Nodes pane: its name opens the line. (The Sparklines pane
    # beside it titles itself "alpha · head · UP" on the table's header line.)
    row = next((line for line in screen.splitlines() if re.match(rf"│ {name}\b", line)), "")
    return " UP " in row and re.search(r"\d+\.\d", row) is not None


async def test_three_ssh_nodes_up_with_figures_and_q_exits_zero(
    ssh_servers: SshCluster, tmp_path: Path
) -> None:
    config = tmp_path / "cluster.yaml"
    config.write_text(
        ssh_servers.config_yaml(
            interval=0.5, python=sys.executable, names=["alpha", "bravo", "charlie"]
        )
    )
    rc_file = tmp_path / "rc"
    # Unset COLUMNS/LINES: a test runner may export them, and they would win over the pty.
    env = f"-u COLUMNS -u LINES XDG_STATE_HOME={shlex.quote(str(tmp_path / 'state'))} TERM=xterm-256color"
    command = (
        f"env {env} {shlex.quote(str(GRIDTUI))} -c {shlex.quote(str(config))}; echo $? > {rc_file}"
    )
    session = f"gridtui-e2e-{uuid.uuid4().hex[:8]}"
    await tmux("new-session", "-d", "-s", session, "-x", "140", "-y", "40", "sh", "-c", command)
    try:
        screen = await wait_for_screen(
            session,
            lambda s: (
                "3/3 up" in s
                and all(row_shows_figures(s, n) for n in ("alpha", "bravo", "charlie"))
            ),
        )
        assert "test-ssh" in screen
        await tmux("send-keys", "-t", session, "q")
        for _ in range(80):
            if rc_file.exists() and rc_file.read_text().strip():
                break
            await asyncio.sleep(0.25)
        assert rc_file.read_text().strip() == "0"
    finally:
        await tmux("kill-server")
