"""`cluster status` and `cluster start` on nodes that fail in different ways: a total deadline
naming the silent nodes, JSON that says null for what nobody measured, a reached node without
Python reported as reached, and advice that fits each cause (classes 5, 7 and 9)."""

from __future__ import annotations

import json
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from gridtui.cli import main


def closed_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])  # closed again when this returns


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts TCP and then never says a word (no SSH banner): a hung node."""
    with socket.socket() as s:
        s.bind(("127.0.0.3", 0))
        s.listen(8)
        yield int(s.getsockname()[1])


def fake_python(path: Path, ray: str | None) -> str:
    """An interpreter that answers the node script's `version` with this Ray (or none)."""
    version = json.dumps(
        {"python": "{}.{}.{}".format(*sys.version_info[:3]),
         "minor": "{}.{}".format(*sys.version_info[:2]), "ray": ray, "executable": str(path)}
    )  # fmt: skip
    path.write_text(f"#!/bin/sh\ncat >/dev/null\necho '{version}'\n")
    path.chmod(0o755)
    return str(path)


def write_config(tmp_path: Path, *nodes: str, connect_timeout: float = 30) -> Path:
    path = tmp_path / "c.yaml"
    path.write_text(
        f"name: t\nray: {{port: {closed_port('127.0.0.2')}, temp_dir: /tmp/gt-none}}\n"
        f"ssh: {{connect_timeout: {connect_timeout}, use_ssh_config: false,"
        f" known_hosts: {tmp_path / 'kh'}}}\n"
        "nodes:\n" + "".join(f"  - {n}\n" for n in nodes)
    )
    return path


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No ~/.gridtui/venv, no ~/.ssh: nothing of the developer's decides these tests."""
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    return tmp_path


def test_status_has_a_deadline_and_names_each_cause(
    home: Path, silent_port: int, capsys: pytest.CaptureFixture[str]
) -> None:
    py = sys.executable
    path = write_config(
        home,
        f"{{name: n1, host: 127.0.0.2, transport: local, python: {py}, role: head}}",
        "{name: n2, host: 127.0.0.3, transport: local, python: /nonexistent/python3}",
        f"{{name: n3, host: 127.0.0.2, port: {closed_port('127.0.0.2')}, user: x}}",
        "{name: n4, host: no-such-host.invalid, port: 22, user: x}",
        f"{{name: n5, host: 127.0.0.3, port: {silent_port}, user: x}}",
    )
    # connect_timeout 30: without the deadline n5 alone would take a minute and more.
    assert main(["cluster", "status", "--json", "--timeout", "3", "-c", str(path)]) == 1
    out, err = capsys.readouterr()
    assert err == ""
    status = json.loads(out)
    nodes = {n["name"]: n for n in status["nodes"]}
    assert status["healthy"] is False

    # Reached, no Ray: figures Ray would give are unknown, not 0.
    assert nodes["n1"]["reachable"] is True and nodes["n1"]["processes"] == 0
    assert nodes["n1"]["ray_state"] == "UNKNOWN"
    for key in ("cpu_total", "cpu_available", "memory_total", "store_total", "store_used"):
        assert nodes["n1"][key] is None, key

    # SSH (here: the local transport) got through; the interpreter is what is missing.
    n2 = nodes["n2"]
    assert n2["reachable"] is True and n2["reach_error"] == ""
    assert n2["problem"].startswith("n2: no usable Python at /nonexistent/python3")
    assert "set the node's `python:`" in n2["problem"]
    assert n2["processes"] is None and n2["rss"] is None and n2["healthy"] is False

    for name, reason, advice in (
        ("n3", "refused", "check the node's host and port, and that sshd runs"),
        ("n4", "dns", "check the host name"),
        ("n5", "timeout", "does a firewall let SSH through?"),
    ):
        node = nodes[name]
        assert node["reachable"] is False and node["reach_reason"] == reason, node
        assert node["reach_error"].startswith(f"{name}: ") and advice in node["reach_error"]
        assert node["processes"] is None and node["rss"] is None and node["cpu_total"] is None
    assert nodes["n5"]["reach_error"].startswith("n5: no answer within 3s")


def test_status_table_keeps_every_reason_whole(
    home: Path, silent_port: int, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_config(
        home,
        f"{{name: n3, host: 127.0.0.2, port: {closed_port('127.0.0.2')}, user: x, role: head}}",
        f"{{name: n5, host: 127.0.0.3, port: {silent_port}, user: x}}",
    )
    assert main(["cluster", "status", "--timeout", "2", "-c", str(path)]) == 1
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[1].split()[:4] == ["n3", "127.0.0.2", "head", "refused"]
    assert lines[2].split()[:4] == ["n5", "127.0.0.3", "worker", "timeout"]
    refused = next(ln for ln in lines if ln.startswith("n3: "))
    assert refused.endswith("refused the connection; nothing accepts SSH there: check the "
                            "node's host and port, and that sshd runs")  # fmt: skip
    assert (
        "n5: no answer within 2s (cluster status --timeout); is the node up, and does a "
        "firewall let SSH through?" in lines
    )
    assert "n3: n3:" not in out and "refused: refused" not in out
    assert lines[-1] == "cluster t: NOT healthy"


def test_start_advice_fits_each_cause(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    py = sys.executable
    no_ray = fake_python(home / "noray", None)
    old_ray = fake_python(home / "oldray", "2.9.0")
    path = write_config(
        home,
        f"{{name: ok, host: 127.0.0.2, transport: local, python: {py}, role: head}}",
        "{name: nopy, host: 127.0.0.3, transport: local, python: /nonexistent/python3}",
        "{name: novenv, host: 127.0.0.4, transport: local}",  # the env install would create
        f"{{name: noray, host: 127.0.0.5, transport: local, python: {no_ray}}}",
        f"{{name: oldray, host: 127.0.0.6, transport: local, python: {old_ray}}}",
        f"{{name: refused, host: 127.0.0.2, port: {closed_port('127.0.0.2')}, user: x}}",
        "{name: dns, host: no-such-host.invalid, port: 22, user: x}",
        connect_timeout=5,
    )
    assert main(["cluster", "start", "-q", "-c", str(path)]) == 1
    out, err = capsys.readouterr()
    lines = err.splitlines()
    assert out == "" and lines[0] == "gridtui: 6 of 7 nodes cannot join (nothing was started)"
    problems = {ln.strip().split(":")[0]: ln.strip() for ln in lines[1:]}
    install = "run `gridtui cluster install`"
    assert set(problems) == {"nopy", "novenv", "noray", "oldray", "refused", "dns"}
    assert [n for n, text in problems.items() if install in text] == ["novenv", "noray", "oldray"]
    assert problems["nopy"] == (
        "nopy: no Python at /nonexistent/python3; "
        "set the node's `python:` to an interpreter that exists there"
    )
    assert problems["novenv"].startswith(f"novenv: no Python at {home}/.gridtui/venv/bin/python")
    assert problems["noray"].startswith("noray: Ray not installed (console: ")
    assert problems["oldray"].startswith("oldray: Ray 2.9.0 (console: ")
    assert "that sshd runs" in problems["refused"] and "host name" in problems["dns"]
    assert not any(f"{n}: {n}:" in err for n in problems)


def test_rotate_token_without_token_auth_is_a_usage_error(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = home / "c.yaml"
    path.write_text(
        "name: open\nray: {auth: disabled, temp_dir: /tmp/gt-none}\nnodes:\n"
        f"  - {{name: n1, host: 127.0.0.2, transport: local, python: {sys.executable}}}\n"
    )
    assert main(["cluster", "rotate-token", "-c", str(path)]) == 2
    _, err = capsys.readouterr()
    assert err == "gridtui: ray.auth is disabled in the cluster file: there is no token to rotate\n"
    assert not (home / "state" / "gridtui" / "ray-auth").exists()  # nothing was made
