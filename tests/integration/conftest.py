"""Fixtures for real-SSH tests: in-process asyncssh servers on 127.0.0.2..4."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gridtui.config import ClusterConfig, parse_config

sys.path.insert(0, str(Path(__file__).parent))  # sshd.py is a helper module, not a package

from sshd import SshCluster


@pytest.fixture
def no_ssh_agent(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keys from the developer's own agent must not decide an auth test."""
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)


@pytest.fixture
async def ssh_servers(tmp_path: Path, no_ssh_agent: None) -> AsyncIterator[SshCluster]:
    """Three running servers on 127.0.0.2-4, their known_hosts and a client key."""
    cluster = SshCluster(tmp_path, ["127.0.0.2", "127.0.0.3", "127.0.0.4"])
    await cluster.start()
    try:
        yield cluster
    finally:
        await cluster.stop()


@pytest.fixture
def ssh_cluster(ssh_servers: SshCluster) -> tuple[SshCluster, ClusterConfig]:
    """The servers and a validated ClusterConfig pointing at them (node python: this one)."""
    text = ssh_servers.config_yaml(interval=0.25, python=sys.executable)
    return ssh_servers, parse_config(text, "ssh-test.yaml")
