"""The shell key's argv: ssh(1) with the cluster file's options, never a shell string."""

from __future__ import annotations

from pathlib import Path

import pytest

from gridtui.config import parse_config
from gridtui.services.cluster import shell

CONFIG = """
name: lab
ssh: {known_hosts: /k/known_hosts, host_key_policy: accept-new, use_ssh_config: false}
nodes:
  - {name: a, host: 10.0.0.1, user: ray, port: 2222, identity: /k/id_ed25519}
  - {name: b, host: b.lab}
  - {name: l, host: 127.0.0.2, transport: local}
"""


@pytest.fixture
def config():  # type: ignore[no-untyped-def]
    return parse_config(CONFIG, "lab.yaml")


def test_ssh_argv_carries_user_port_identity_and_known_hosts(config, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(shell.shutil, "which", lambda name: f"/usr/bin/{name}")
    argv = shell.shell_argv(config.node("a"), config)
    assert argv[:2] == ["/usr/bin/ssh", "-t"]
    assert argv[-2:] == ["--", "10.0.0.1"]
    for pair in (["-p", "2222"], ["-l", "ray"], ["-i", str(Path("/k/id_ed25519"))], ["-F", "none"]):
        i = argv.index(pair[0])
        assert argv[i : i + 2] == pair
    assert "UserKnownHostsFile=/k/known_hosts" in argv
    assert "StrictHostKeyChecking=accept-new" in argv
    plain = shell.shell_argv(config.node("b"), config)
    assert "-p" not in plain and "-l" not in plain and plain[-1] == "b.lab"


def test_local_node_gets_the_users_shell(config, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SHELL", "/bin/sh")
    assert shell.shell_argv(config.node("l"), config) == ["/bin/sh"]


def test_no_ssh_is_a_user_error(config, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(shell.shutil, "which", lambda name: None)
    with pytest.raises(shell.NoShell, match="ssh is not installed"):
        shell.shell_argv(config.node("b"), config)
