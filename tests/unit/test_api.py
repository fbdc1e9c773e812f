"""The REST API on a real uvicorn on loopback, over recorded node data and a fake controller:
tokens, auth, roles, bad input, body limits, the remote-bind refusal and the event stream."""

from __future__ import annotations

import logging
import os
import socket
import stat
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from api_harness import ThreadServer
from fake_control import FakeControl, attach
from recorded import DEFAULT_TRACE, recorded_backend

from gridtui.api.context import ApiContext
from gridtui.api.events import EventHub
from gridtui.api.guard import Limits
from gridtui.api.server import ServeOptions, check_bind
from gridtui.cli import main
from gridtui.errors import UsageError
from gridtui.services.api_tokens import TokenStore
from gridtui.services.ray.gateway import RayUnavailable

# Every route that changes the cluster, with a body that would be valid.
MUTATING: list[tuple[str, str, dict[str, Any] | bytes | None]] = [
    ("POST", "/boosts", {"node": "box1", "type": "cpu", "amount": 1}),
    ("DELETE", "/boosts/3f2a", None),
    ("POST", "/sharing", {"type": "cpu", "amount": "1"}),
    ("DELETE", "/sharing/d51c", None),
    ("PUT", "/memory/k1", b"some bytes"),
    ("DELETE", "/memory/k1", None),
    ("PUT", "/offload/policy", {"enabled": True}),
]
READS = ["/nodes", "/boosts", "/sharing", "/memory", "/memory/k1", "/memory-info/k1",
         "/memory/k1?info",
         "/offload/policy", "/offload/events", "/cluster?timeout=0.5"]  # fmt: skip


class FakeGateway:
    """Connected, but every Ray call refuses: the routes that need Ray answer 503."""

    connected = True
    message = ""

    async def call(self, fn: Callable[[], Any], timeout: float | None = None) -> Any:
        raise RayUnavailable("Ray is not reachable: no Ray in this test")

    async def close(self) -> None:
        pass


@pytest.fixture(scope="module")
def state(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    base = tmp_path_factory.mktemp("api")
    old = os.environ.get("XDG_STATE_HOME")
    os.environ["XDG_STATE_HOME"] = str(base)
    try:
        yield base
    finally:
        if old is None:
            os.environ.pop("XDG_STATE_HOME", None)
        else:
            os.environ["XDG_STATE_HOME"] = old


@pytest.fixture(scope="module")
def tokens(state: Path) -> dict[str, str]:
    store = TokenStore()
    return {
        "operator": store.create("operator", "ops")[1],
        "read-only": store.create("read-only", "viewer")[1],
    }


@pytest.fixture(scope="module")
def served(state: Path, tokens: dict[str, str]) -> Iterator[tuple[ThreadServer, FakeControl]]:
    from fake_control import lab_reservations

    backend = recorded_backend(DEFAULT_TRACE, ray_view=True)
    control = attach(backend, FakeControl(lab_reservations()))
    backend.gateway = FakeGateway()  # type: ignore[assignment]
    ctx = ApiContext(backend, TokenStore(), Limits(body=4096, upload=1024**2))
    # Snapshots with history are large: a stalled reader's buffers fill within seconds.
    ctx.events = EventHub(
        backend, interval=0.02, offload_poll=3600, max_bytes=64 * 1024, history=240
    )
    with ThreadServer(ctx, sndbuf=64 * 1024) as server:
        yield server, control


def client(server: ThreadServer, token: str | None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=server.url, headers=headers, timeout=30)


def send(c: httpx.Client, method: str, path: str, body: Any) -> httpx.Response:
    if isinstance(body, bytes):
        kind = "application/octet-stream" if path.startswith("/memory") else "application/json"
        return c.request(method, path, content=body, headers={"Content-Type": kind})
    return c.request(method, path, json=body)


def test_tokens_are_stored_hashed_in_a_private_file(state: Path, capsys: Any) -> None:
    assert main(["token", "create", "--operator", "--name", "ci"]) == 0
    secret = capsys.readouterr().out.strip().splitlines()[-1]
    path = state / "gridtui" / "api-tokens.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text()
    assert secret not in text and secret.startswith("gridtui_")
    assert TokenStore().check(secret) is not None
    assert main(["token", "create", "--read-only", "--name", "ci"]) == 2  # taken
    assert "exists" in capsys.readouterr().err
    assert main(["token", "list"]) == 0
    assert "ci" in capsys.readouterr().out
    assert main(["token", "revoke", "ci"]) == 0
    assert TokenStore().check(secret) is None
    assert main(["token", "revoke", "ci"]) == 2
    assert "no token named 'ci'" in capsys.readouterr().err


def test_every_route_needs_a_valid_token(
    served: tuple[ThreadServer, FakeControl], tokens: dict[str, str]
) -> None:
    server, control = served
    store = TokenStore()
    _, revoked = store.create("operator", "gone")
    store.revoke("gone")
    for token in (None, "nonsense", revoked):
        with client(server, token) as c:
            for path in READS:
                r = c.get(path)
                assert r.status_code == 401, (path, r.text)
                assert r.headers["www-authenticate"] == "Bearer"
                assert r.json()["error"]
            for method, path, body in MUTATING:
                assert send(c, method, path, body).status_code == 401
    with client(server, None) as c:
        r = c.get("/nodes", headers={"Authorization": "Basic dXNlcjpwdw=="})
        assert r.status_code == 401 and "Bearer TOKEN" in r.json()["error"]
        assert c.get("/docs").status_code == 200  # OpenAPI needs no token
        assert "/boosts" in c.get("/openapi.json").json()["paths"]
    assert control.calls == []


def test_a_read_only_token_reads_everything_and_changes_nothing(
    served: tuple[ThreadServer, FakeControl], tokens: dict[str, str]
) -> None:
    server, control = served
    before = control.snapshot
    with client(server, tokens["read-only"]) as c:
        zipped = c.get("/nodes")  # httpx asks for gzip: the answer is gzipped once per change
        plain = c.get("/nodes", headers={"Accept-Encoding": "identity"})
        assert zipped.headers["content-encoding"] == "gzip"
        assert "content-encoding" not in plain.headers
        assert int(zipped.headers["content-length"]) < len(plain.content) / 3
        nodes = zipped.json()
        assert [n["name"] for n in plain.json()["nodes"]] == [n["name"] for n in nodes["nodes"]]
        assert [n["name"] for n in nodes["nodes"]] == ["ws", "box1", "box2", "box3"]
        assert nodes["nodes"][0]["ray"]["cpu_total"] == 16
        assert {r["id"] for r in c.get("/boosts").json()} == {"7c1e", "3f2a", "9b04", "e870"}
        for method, path, body in MUTATING:
            r = send(c, method, path, body)
            assert r.status_code == 403, (method, path, r.text)
            assert "read-only" in r.json()["error"]
        # Ray is needed for these: the read is allowed, the answer says why it cannot be.
        for r in (c.post("/place", json={"cpu": 1}), c.get("/memory/k1?info")):
            assert r.status_code == 503 and "Ray is not reachable" in r.json()["error"]
    assert control.calls == [] and control.snapshot is before


def test_an_operator_requests_and_releases_a_boost(
    served: tuple[ThreadServer, FakeControl], tokens: dict[str, str]
) -> None:
    server, control = served
    with client(server, tokens["operator"]) as c:
        r = c.post("/boosts", json={"node": "box2", "type": "cpu", "amount": "2", "ttl": "30m"})
        assert r.status_code == 201, r.text
        rid = r.json()["id"]
        assert control.calls[-1] == ("boost", "box2", "cpu", 2.0, 1800.0)
        assert rid in {b["id"] for b in c.get("/boosts").json()}
        r = c.delete(f"/boosts/{rid}")
        assert r.status_code == 200 and r.json()["id"] == rid
        assert rid not in {b["id"] for b in c.get("/boosts").json()}
    control.calls.clear()


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "message"),
    [
        ("POST", "/boosts", b"{not json", 400, "malformed JSON body"),
        ("POST", "/boosts", b"", 400, "a JSON body is required"),
        ("POST", "/boosts", {"node": "box1", "type": "cpu"}, 400, "amount: Field required"),
        ("POST", "/boosts", {"node": 7, "type": "cpu", "amount": 1}, 400, "node: Input should"),
        ("POST", "/boosts", {"node": "box1", "type": "cpu", "amount": [1]}, 400, "amount"),
        ("POST", "/boosts", {"node": "box1", "type": "cpu", "amount": 1, "x": 1}, 400,
         "x: Extra inputs are not permitted"),
        ("POST", "/boosts", {"node": "box1", "type": "tpu", "amount": 1}, 400, "tpu"),
        ("POST", "/boosts", {"node": "box1", "type": "cpu", "amount": "-3"}, 400, "-3"),
        ("POST", "/boosts", {"node": "box1", "type": "cpu", "amount": 1, "ttl": "soon"}, 400,
         "soon"),
        ("POST", "/boosts", {"node": "nope", "type": "cpu", "amount": 1}, 400,
         "unknown node 'nope' (known: ws, box1, box2, box3)"),
        ("POST", "/sharing", {"type": "cpu", "amount": 1, "strategy": "luck"}, 400, "luck"),
        ("POST", "/boosts", {"node": "box1", "type": "cpu", "amount": "1" * 5000}, 413,
         "request body too large"),
        ("PUT", "/memory/k1", b"x" * (1024**2 + 1), 413, "request body too large"),
        ("PUT", "/memory/%2E%2E", b"x", 400, "key"),
        ("PUT", "/memory/.hidden", b"x", 400, "key"),
        ("GET", "/memory/a%00b", None, 400, "key"),
        ("GET", "/memory/%2F..%2F..%2Fetc", None, 400, "must start with a letter"),
        ("GET", "/memory-info/a b", None, 400, "outside letters"),
        ("POST", "/boosts", {"node": "box1", "type": "CPU", "amount": 1}, 400, "unknown type 'CPU'"),
        ("POST", "/boosts", {"node": "box1", "type": "cpu", "amount": "1e308"}, 400, "1e308"),
        ("POST", "/place", {"cpu": 1.7e308}, 400, "out of range"),
        ("PUT", "/memory/k1?node=nope", b"x", 400, "unknown node 'nope'"),
        ("PUT", "/offload/policy", {"enabled": True, "thresholds": {"CPU": 50}}, 400,
         "unknown resource 'CPU'"),
        ("PUT", "/offload/policy", {"enabled": True, "sustain": "2h"}, 400, "0 to 1h"),
        ("DELETE", "/memory/" + "k" * 300, None, 400, "key"),
        ("PUT", "/memory/k1?replicas=0", b"x", 400, "replicas"),
        ("PUT", "/offload/policy", {"enabled": "yes"}, 400, "enabled: Input should be"),
        ("PUT", "/offload/policy", {"enabled": True, "thresholds": {"cpu": 150}}, 400,
         "out of range"),
        ("PUT", "/offload/policy", {"enabled": True, "thresholds": {"disk": 50}}, 400,
         "unknown resource 'disk'"),
        ("PUT", "/offload/policy", {"enabled": False, "sustain": "10s"}, 400, "takes no"),
        ("POST", "/place", {"cpu": "lots"}, 400, "lots"),
        ("DELETE", "/boosts/..%2Fx", None, 404, "Not Found"),
        ("GET", "/nodes?history=-1", None, 400, "history"),
    ],
)  # fmt: skip
def test_bad_input_is_a_clear_4xx_and_changes_nothing(
    served: tuple[ThreadServer, FakeControl],
    tokens: dict[str, str],
    method: str,
    path: str,
    body: Any,
    status: int,
    message: str,
) -> None:
    server, control = served
    with client(server, tokens["operator"]) as c:
        r = send(c, method, path, body)
        assert r.status_code == status, r.text
        assert message in r.json()["error"] or message in str(r.json().get("details")), r.text
        assert c.get("/nodes").status_code == 200  # still serving
    assert control.calls == []


def test_remote_binds_need_the_flag_and_tls(tmp_path: Path, capsys: Any) -> None:
    check_bind(ServeOptions(host="127.0.0.1"))
    check_bind(ServeOptions(host="::1"))
    with pytest.raises(UsageError, match="not loopback: add --allow-remote"):
        check_bind(ServeOptions(host="0.0.0.0"))
    with pytest.raises(UsageError, match="without TLS"):
        check_bind(ServeOptions(host="0.0.0.0", allow_remote=True))
    cert, key = tmp_path / "c.pem", tmp_path / "k.pem"
    cert.write_text("x")
    key.write_text("x")
    check_bind(ServeOptions("0.0.0.0", allow_remote=True, tls_cert=str(cert), tls_key=str(key)))
    assert main(["serve", "--host", "10.1.2.3"]) == 2
    assert "refusing to listen on 10.1.2.3" in capsys.readouterr().err
    assert main(["serve", "--host", "10.1.2.3", "--allow-remote"]) == 2
    assert "without TLS" in capsys.readouterr().err


def _feed(server: ThreadServer, rounds: int) -> None:
    """New samples for every node, as the agents' streams bring them."""
    hub = server.ctx.backend.metrics
    sample = {"cpu": 50.0, "mem": {"total": 1 << 34, "used": 1 << 33}, "load": [1, 1, 1]}
    for i in range(rounds):
        for name in hub.node_names():
            server.call_soon(hub.record, name, dict(sample, cpu=float(i % 100)))
        server.call_soon(hub.publish_now)


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_the_event_stream_sends_snapshots_and_drops_a_client_that_stops_reading(
    served: tuple[ThreadServer, FakeControl], tokens: dict[str, str]
) -> None:
    server, _ = served
    uvicorn_log = _Records()
    logging.getLogger("uvicorn.error").addHandler(uvicorn_log)
    hub = server.ctx.events
    assert hub is not None
    headers = {"Authorization": f"Bearer {tokens['read-only']}"}
    with httpx.stream("GET", f"{server.url}/events", headers=headers, timeout=30) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        lines = r.iter_lines()
        assert next(lines) == "event: snapshot"
        assert '"cluster":"lab"' in next(lines)

    # A reader with a tiny window that stops after the headers.
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", server.port))
    sock.sendall(
        f"GET /events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {tokens['read-only']}"
        "\r\n\r\n".encode()
    )
    assert sock.recv(64).startswith(b"HTTP/1.1 200")
    dropped = hub.dropped
    deadline = time.monotonic() + 60
    while hub.dropped == dropped:
        assert time.monotonic() < deadline, "the stalled client was never dropped"
        _feed(server, 5)
        time.sleep(0.02)
    assert hub.clients == set()
    # What it can still read is what sat in socket buffers: bounded, then the end of the
    # response (its last chunk) and of the connection.
    got, tail = 0, b""
    sock.settimeout(30)
    while chunk := sock.recv(65536):
        got += len(chunk)
        tail = (tail + chunk)[-64:]
    sock.close()
    logging.getLogger("uvicorn.error").removeHandler(uvicorn_log)
    assert got < 4 * 1024**2
    assert tail.endswith(b": the server ended this stream\n\n\r\n0\r\n\r\n"), tail
    assert [r.getMessage() for r in uvicorn_log.records] == []


def test_a_stopping_server_ends_its_event_streams(tokens: dict[str, str]) -> None:
    """uvicorn waits for open responses before the app's shutdown: each stream is ended."""
    server = ThreadServer(ApiContext(recorded_backend(DEFAULT_TRACE), TokenStore()))
    server.__enter__()
    headers = {"Authorization": f"Bearer {tokens['read-only']}"}
    stopper = threading.Thread(target=server.__exit__, args=(None, None, None))
    with httpx.stream("GET", f"{server.url}/events", headers=headers, timeout=30) as r:
        lines = r.iter_lines()
        assert next(lines) == "event: snapshot"
        stopper.start()
        deadline, rest = time.monotonic() + 20, []
        for line in lines:  # snapshots and keepalives keep coming while it stays open
            rest.append(line)
            assert time.monotonic() < deadline, "the stream outlived its server"
    stopper.join(30)
    assert not server.thread.is_alive()
    assert ": the server ended this stream" in rest
