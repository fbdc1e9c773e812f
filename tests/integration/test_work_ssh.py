"""Ray's dashboard of a head reached over SSH: the job client and the state API go through a
local forward on the head's SSH connection, never to the head's address, with the token."""

from __future__ import annotations

import asyncio
import json
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sshd import SshCluster

from gridtui.config import ClusterConfig, parse_config
from gridtui.services.ray import auth as ray_auth
from gridtui.services.ray.driver_link import RayUnavailable
from gridtui.services.work.service import WorkService

EMPTY_LIST = {
    "result": True,
    "msg": "",
    "data": {
        "result": {
            "result": [],
            "total": 0,
            "num_after_truncation": 0,
            "num_filtered": 0,
            "partial_failure_warning": "",
        }
    },
}


class FakeDashboard(ThreadingHTTPServer):
    """What Ray's dashboard answers to an empty cluster's job and state reads, on this
    machine's loopback only (as `--dashboard-host=127.0.0.1` puts Ray's), refusing any
    request without the token as Ray's token auth does (401)."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.seen: list[tuple[str, str]] = []  # (path, Authorization header)
        super().__init__(("127.0.0.1", 0), _Handler)

    @property
    def port(self) -> int:
        return int(self.server_address[1])


class _Handler(BaseHTTPRequestHandler):
    server: FakeDashboard

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        auth = self.headers.get("Authorization", "")
        self.server.seen.append((path, auth))
        if auth != f"Bearer {self.server.token}":
            self._answer(401, "Unauthorized: Missing authentication token", "text/plain")
        elif path == "/api/version":
            body = {"version": "4", "ray_version": "2.60.0", "ray_commit": "test"}
            self._answer(200, json.dumps(body))
        elif path == "/api/jobs/":
            self._answer(200, "[]")
        elif path.startswith("/api/v0/"):
            self._answer(200, json.dumps(EMPTY_LIST))
        else:
            self._answer(404, "not found", "text/plain")

    def _answer(self, status: int, text: str, kind: str = "application/json") -> None:
        data = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        return None


@pytest.fixture
def cluster(
    ssh_servers: SshCluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[ClusterConfig, FakeDashboard]]:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))  # the Ray token's home
    fake = FakeDashboard("")
    text = ssh_servers.config_yaml(python=sys.executable)
    config = parse_config(text + f"ray: {{dashboard_port: {fake.port}}}\n", "ssh-work.yaml")
    ray_auth.ensure_token(config)
    fake.token = ray_auth.read_token(config)
    threading.Thread(target=fake.serve_forever, daemon=True).start()
    try:
        yield config, fake
    finally:
        fake.shutdown()
        fake.server_close()


async def test_job_and_state_reads_go_through_the_heads_ssh_forward_with_the_token(
    ssh_servers: SshCluster, cluster: tuple[ClusterConfig, FakeDashboard]
) -> None:
    config, fake = cluster
    svc = WorkService(config)
    try:
        assert await svc.jobs() == [] and await svc.groups() == []
        address = (await svc.board()).endpoint.address
    finally:
        await svc.close()
    host, port = urlsplit(address).hostname, urlsplit(address).port
    # A port of this machine's loopback, not the dashboard's own: the head's SSH server
    # opened every connection to the dashboard (one per request), no other node's did.
    assert host == "127.0.0.1" and port != fake.port
    assert set(ssh_servers.servers[0].forwards) == {("127.0.0.1", fake.port)}
    assert len(ssh_servers.servers[0].forwards) == len(fake.seen)
    assert not any(s.forwards for s in ssh_servers.servers[1:])
    paths = {p for p, _ in fake.seen}
    assert {"/api/version", "/api/jobs/", "/api/v0/nodes", "/api/v0/actors"} <= paths
    assert "/api/v0/placement_groups" in paths
    # Both of Ray's clients (JobSubmissionClient, StateApiClient) sent the cluster's token.
    assert {a for _, a in fake.seen} == {f"Bearer {fake.token}"}
    # Closed with the service: nothing listens on the forward any more.
    with pytest.raises(OSError):
        await asyncio.open_connection(host, port)


async def test_a_token_the_dashboard_refuses_is_one_line(
    cluster: tuple[ClusterConfig, FakeDashboard],
) -> None:
    config, fake = cluster
    fake.token = "another cluster's token"
    svc = WorkService(config)
    try:
        with pytest.raises(RayUnavailable) as refused:
            await svc.jobs()
    finally:
        await svc.close()
    assert "\n" not in refused.value.summary and "Authentication" in refused.value.summary
    assert fake.seen and all(a.startswith("Bearer ") for _, a in fake.seen)
