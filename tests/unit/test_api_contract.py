"""The REST API against its own OpenAPI document: schemathesis (a client nobody here wrote)
with every check, keys with `/` on every memory route, and chunked bodies over the limit;
on a real uvicorn over the lab's recorded data and tests/api_fakes.py (no Ray)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from api_fakes import IndexMemoryService, LabControl, serve_lab
from api_harness import ThreadServer
from hypothesis import given, settings
from hypothesis import strategies as st
from recorded import DEFAULT_TRACE, recorded_backend

from gridtui.api.context import ApiContext
from gridtui.api.guard import Limits
from gridtui.api.schemas import (
    COUNT_MIN,
    COUNT_TEXT,
    KEY_PATTERN,
    SIZE_MIN,
    SIZE_TEXT,
    SUSTAIN_TEXT,
    TTL_TEXT,
)
from gridtui.model.objects import key_problem
from gridtui.policy.amounts import parse_amount, parse_ttl
from gridtui.services.api_tokens import TokenStore
from gridtui.services.offload.thresholds import parse_sustain

# Examples per operation and phase, and the seed: ~1,000 requests, the same ones each run.
EXAMPLES = 5
SEED = 14


class Recorder:
    """ASGI wrapper: (method, route, status class) of every answer a route gave."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.seen: Counter[tuple[str, str, int]] = Counter()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        status = 0

        async def sending(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        await self.app(scope, receive, sending)
        route = scope.get("route")
        if route is not None:
            self.seen[(scope["method"], route.path_format, status // 100)] += 1


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ThreadServer, str, Recorder]]:
    state = tmp_path_factory.mktemp("contract")
    old = os.environ.get("XDG_STATE_HOME")
    os.environ["XDG_STATE_HOME"] = str(state)
    try:
        token = TokenStore().create("operator", "contract")[1]
        backend = recorded_backend(DEFAULT_TRACE, ray_view=True)
        serve_lab(backend)
        ctx = ApiContext(backend, TokenStore(), Limits(body=4096, upload=1024**2))
        server = ThreadServer(ctx)
        recorder = Recorder(server.server.config.app)
        server.server.config.app = recorder
        with server:
            yield server, token, recorder
    finally:
        if old is None:
            os.environ.pop("XDG_STATE_HOME", None)
        else:
            os.environ["XDG_STATE_HOME"] = old


def client(server: ThreadServer, token: str) -> httpx.Client:
    return httpx.Client(
        base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=30
    )


def memory_of(server: ThreadServer) -> IndexMemoryService:
    memory = server.ctx.backend._memory
    assert isinstance(memory, IndexMemoryService)
    return memory


def test_every_memory_route_takes_keys_with_a_slash(
    lab: tuple[ThreadServer, str, Recorder],
) -> None:
    server, token, _ = lab
    with client(server, token) as c:
        for key, sent in [("weights/v3", "weights/v3"), ("runs/a:b/c", "runs%2Fa%3Ab%2Fc"),
                          ("x/info", "x/info"), ("d/../e", "d%2F..%2Fe")]:  # fmt: skip
            r = c.put(f"/memory/{sent}", content=key.encode())
            assert r.status_code == 201, r.text
            assert r.json()["key"] == key
            got = c.get(f"/memory/{sent}")
            assert got.status_code == 200 and got.content == key.encode()
            assert (
                got.headers["content-disposition"]
                == f'attachment; filename="{key.rsplit("/", 1)[-1]}"'
            )
            assert c.get(f"/memory-info/{sent}").json()["key"] == key
            assert c.get(f"/memory/{sent}?info").json()["key"] == key
        # `x/info` is an object, not the details of `x` (there is no `x`).
        assert c.get("/memory/x").status_code == 404
        assert c.get("/memory/x/info").content == b"x/info"
        listed = {o["key"] for o in c.get("/memory").json()["objects"]}
        assert listed == {"weights/v3", "runs/a:b/c", "x/info", "d/../e"}
        for sent in ("weights%2Fv3", "runs/a:b/c", "x%2Finfo", "d%2F..%2Fe"):
            r = c.delete(f"/memory/{sent}")
            assert r.status_code == 200 and r.json()["deleted"] is True, r.text
        assert c.get("/memory").json()["objects"] == []
        # Refused with the CLI's own line, whatever the route.
        for method in ("GET", "PUT", "DELETE"):
            r = c.request(method, "/memory/bad%0Akey")
            assert r.status_code == 400 and "outside letters, digits" in r.json()["error"]
        assert "must start with" in c.get("/memory-info/%2Fetc").json()["error"]


def test_a_chunked_body_over_the_limit_is_413_and_leaves_nothing(
    lab: tuple[ThreadServer, str, Recorder],
) -> None:
    server, token, _ = lab
    control = server.ctx.backend.control
    assert isinstance(control, LabControl)
    calls = list(control.calls)
    boost = b'{"node": "box1", "type": "cpu", "amount": 1, "ttl": "' + b"1" * 5000 + b'"}'
    with client(server, token) as c:
        # A generator has no length: httpx sends it chunked.
        r = c.post("/boosts", content=iter([boost[:3000], boost[3000:]]),
                   headers={"Content-Type": "application/json"})  # fmt: skip
        assert r.status_code == 413, r.text
        assert r.json() == {"error": "request body too large: the limit here is 4.0KiB",
                            "status": 413}  # fmt: skip
        big = iter([b"x" * 600_000, b"y" * 600_000])
        r = c.put("/memory/too-big", content=big)
        assert r.status_code == 413 and "1.0MiB" in r.json()["error"], r.text
        fits = c.put("/memory/fits", content=iter([b"x" * 600_000, b"y" * 400_000]))
        assert fits.status_code == 201 and fits.json()["size"] == 1_000_000
        assert c.delete("/memory/fits").status_code == 200
    assert control.calls == calls
    index = memory_of(server).mem.index
    assert index.objects == {} and index.txns == {}


def test_the_document_declares_what_the_server_answers(
    lab: tuple[ThreadServer, str, Recorder],
) -> None:
    server, token, _ = lab
    with client(server, token) as c:
        document = c.get("/openapi.json").json()
        # A path's other methods, all of them (Starlette's own 405 names one route's).
        r = c.request("OPTIONS", "/boosts")
        assert r.status_code == 405 and r.headers["allow"] == "GET, POST"
    assert document["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    assert document["security"] == [{"HTTPBearer": []}]
    for path, ops in document["paths"].items():
        for method, op in ops.items():
            codes = set(op["responses"])
            assert "422" not in codes, (method, path)
            assert {"401", "413", "503"} <= codes, (method, path)
            assert ("403" in codes) == (method != "get" and path != "/place"), (method, path)
            for code in codes - {"200", "201"}:
                schema = op["responses"][code]["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/ErrorBody"}
    boost = document["components"]["schemas"]["BoostBody"]
    assert boost["properties"]["node"]["enum"] == ["ws", "box1", "box2", "box3"]
    key = document["paths"]["/memory/{key}"]["put"]["parameters"][0]
    assert key["schema"]["pattern"] == KEY_PATTERN


REJECTED = [
    "400",
    "401",
    "403",
    "404",
    "405",
    "406",
    "409",
    "413",
    "415",
    "422",
    "428",
    "429",
    "5xx",
]
ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "413", "429", "5xx"]
CONFIG = f"""max-stream-events = 1

[phases.stateful]
# With the work routes a scenario spreads over 26 operations: 50 steps and 8 scenarios reach
# them all (with 5 scenarios, as --max-examples gives, no boost's release was ever reached).
max-steps = 50

[phases.stateful.generation]
max-examples = 8

[checks.negative_data_rejection]
expected-statuses = {REJECTED}

[checks.positive_data_acceptance]
expected-statuses = {ACCEPTED}
"""


def run_schemathesis(
    server: ThreadServer, token: str, tmp: Path
) -> subprocess.CompletedProcess[str]:
    command = [
        sys.executable, "-m", "schemathesis.cli", "run", f"{server.url}/openapi.json",
        "--checks", "all", "--header", f"Authorization: Bearer {token}",
        "--max-examples", str(EXAMPLES), "--seed", str(SEED), "--workers", "1",
        "--generation-database", "none", "--request-timeout", "20", "--no-color",
    ]  # fmt: skip
    # The event stream never ends: read its first event (the snapshot), not 20 s of it.
    # A body over the server's limit is refused with the 413 every route declares: JSON
    # Schema cannot bound a body's bytes (a job's command words), so 413 is a right answer
    # to any body, valid or not.
    (tmp / "schemathesis.toml").write_text(CONFIG)
    return subprocess.run(command, cwd=tmp, capture_output=True, text=True, timeout=300)


def test_schemathesis_finds_the_server_true_to_its_openapi_document(
    lab: tuple[ThreadServer, str, Recorder], tmp_path: Path
) -> None:
    server, token, recorder = lab
    proc = run_schemathesis(server, token, tmp_path)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-20000:]
    # No failure of any check (a warning such as "missing test data" is not one: the
    # coverage below is what this test asks of the generated requests).
    assert "Failures:" not in out and "passed" in out, out[-5000:]
    # Every operation of the document was called and answered 2xx at least once.
    with client(server, token) as c:
        document = c.get("/openapi.json").json()
    operations = {
        (method.upper(), path) for path, ops in document["paths"].items() for method in ops
    }
    assert len(operations) == 26
    answered = {(m, re.sub(r":\w+}", "}", p)) for m, p, cls in recorder.seen if cls == 2}
    assert operations - answered == set(), recorder.seen


@settings(max_examples=150, deadline=None)
@given(st.one_of(st.from_regex(KEY_PATTERN, fullmatch=True), st.text(max_size=210)))
def test_the_schema_key_pattern_is_the_cli_key_grammar(key: str) -> None:
    assert (re.fullmatch(KEY_PATTERN, key) is not None) == (key_problem(key) is None)


@settings(max_examples=100, deadline=None)
@given(
    st.from_regex(COUNT_TEXT, fullmatch=True),
    st.from_regex(SIZE_TEXT, fullmatch=True),
    st.from_regex(TTL_TEXT, fullmatch=True),
    st.from_regex(SUSTAIN_TEXT, fullmatch=True),
)
def test_every_amount_the_schema_allows_the_cli_parser_takes(
    count: str, size: str, ttl: str, sustain: str
) -> None:
    assert parse_amount("cpu", count) >= COUNT_MIN
    assert parse_amount("memory", size) >= SIZE_MIN
    assert (parse_ttl(ttl) or 0) > 0
    assert 0 <= parse_sustain(sustain) <= 3600
