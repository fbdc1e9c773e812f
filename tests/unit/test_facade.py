"""The one facade: the CLI's variant loads no console service, and input is checked once."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from gridtui.backend import checks
from gridtui.config import parse_config
from gridtui.errors import BadRequest, MemoryInputError
from gridtui.model.wire.control import Reserve
from gridtui.services.control.requests import Request, Requests

CONFIG = parse_config(
    """
name: lab
nodes:
  - {name: head, host: 127.0.0.2, role: head}
  - {name: worker-1, host: 127.0.0.3}
"""
)


def test_a_command_loads_no_console_service() -> None:
    """`gridtui boost status` and friends import the headless facade only: no metrics hub,
    no Ray view, no transports, no console Backend (CLI start-up stays what it was)."""
    code = (
        "import sys, json\n"
        "import gridtui.cli\n"
        "from gridtui.commands import boost_cmd, memory_cmd, job_cmd, node_cmd, offload_cmd\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('gridtui.'))))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    loaded = set(json.loads(out.stdout))
    assert "gridtui.backend.headless" in loaded
    for heavy in (
        "gridtui.backend.console",
        "gridtui.services.metrics.hub",
        "gridtui.services.ray.view",
        "gridtui.services.control.client",
        "gridtui.transport.factory",
    ):
        assert heavy not in loaded, heavy


class Recorder(Requests):
    """The requesting half of ControlClient with the controller replaced by a list."""

    def __init__(self) -> None:
        self.config = CONFIG
        self.owner = "test"
        self._renewed = {}
        self.sent: list[Any] = []

    def ask(self, call: Any, *, timeout: float | None = None, retry: bool = True) -> Any:
        self.sent.append(call)
        raise BadRequest("stop here")  # the test needs only what was sent


def test_a_checked_request_is_sent_as_it_is() -> None:
    """Checked where it entered (the facade's checks): the client sends it without parsing
    it again, so what the front checked is what the controller gets."""
    client = Recorder()
    with pytest.raises(BadRequest, match="stop here"):
        client.request_boost("worker-1", Request("cpu", 0.5, 60.0), timeout=12.0)
    assert client.sent == [Reserve("boost", "cpu", 0.5, 60.0, 12.0, "test", node="worker-1")]


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (("worker-1", "cpu", "-1"), "amount"),
        (("worker-1", "tpu", "1"), "tpu"),
        (("worker-9", "cpu", "1"), "unknown node 'worker-9'"),
    ],
)
def test_the_python_api_checks_its_raw_values_before_sending(
    args: tuple[str, str, str], problem: str
) -> None:
    client = Recorder()
    with pytest.raises(BadRequest, match=problem) as caught:
        client.boost(*args)
    assert caught.value.exit_code == 2 and client.sent == []


def test_the_facade_checks_are_the_fronts_one_place() -> None:
    assert checks.check_request("memory", "1GiB", "30m") == Request("memory", 1024**3, 1800.0)
    assert checks.check_reservation("cpu", "2", "") == Request("cpu", 2.0, None)
    assert checks.check_timeout("30") == 30.0
    with pytest.raises(BadRequest, match="the head: it cannot be drained"):
        checks.check_worker(CONFIG, "head")
    with pytest.raises(BadRequest, match="unknown node 'nope'"):
        checks.check_node(CONFIG, "nope")
    with pytest.raises(MemoryInputError, match="must start with a letter") as caught:
        checks.check_key("/bad")
    assert caught.value.exit_code == 2
