"""Bad input and unreachable nodes: one line on stderr, a non-zero exit, no traceback."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

GRIDTUI = [sys.executable, "-m", "gridtui"]


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.2", 0))
        return int(s.getsockname()[1])  # closed again when this returns


def run(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {"HOME": str(home), "XDG_STATE_HOME": str(home / "state"), "PATH": "/usr/bin:/bin"}
    return subprocess.run([*GRIDTUI, *args], capture_output=True, text=True, timeout=120, env=env)


def test_unreachable_node_is_one_line(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(
        "ssh: {connect_timeout: 2, use_ssh_config: false}\n"
        f"nodes:\n  - {{name: a, host: 127.0.0.2, port: {closed_port()}, user: nobody}}\n"
    )
    result = run("cluster", "logs", "--node", "a", "-c", str(config), home=tmp_path)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("gridtui: ") and "refused" in lines[0]


def test_unknown_node_and_missing_file(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("nodes:\n  - {name: a, host: 127.0.0.2}\n")
    unknown = run("cluster", "stop", "--node", "zz", "-c", str(config), home=tmp_path)
    assert unknown.returncode == 2
    assert unknown.stderr.strip() == "gridtui: unknown node 'zz' (known: a)"
    missing = run("cluster", "status", "-c", str(tmp_path / "nope.yaml"), home=tmp_path)
    assert missing.returncode == 2 and "Traceback" not in missing.stderr
    assert missing.stderr.strip() == f"{tmp_path / 'nope.yaml'}: no such file"
