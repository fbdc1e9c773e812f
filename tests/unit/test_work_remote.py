"""The console's Work reads through its driver process (services/work/remote.py), without Ray:
what crosses the link, what the host refuses, and a followed log read by polling."""

from __future__ import annotations

import pickle
import threading
from typing import Any

import pytest
from fake_work import FakeDashboard

from gridtui.config import ClusterConfig
from gridtui.errors import GridError
from gridtui.services.work import remote
from gridtui.services.work.endpoint import JobEndpoint
from gridtui.services.work.remote import RemoteDashboard, WorkHost

ENDPOINT = JobEndpoint("http://127.0.0.1:8265", {"Authorization": "Bearer t"})


class Host:
    """The WorkHost as the link reaches it: every request and answer pickled on the way."""

    def __init__(self, board: FakeDashboard) -> None:
        self.board = board
        self.asked: list[tuple[str, tuple[Any, ...]]] = []

    def call(self, endpoint: JobEndpoint, method: str, args: tuple[Any, ...]) -> Any:
        endpoint, method, args = pickle.loads(pickle.dumps((endpoint, method, args)))
        assert endpoint == ENDPOINT
        self.asked.append((method, args))
        return pickle.loads(pickle.dumps(getattr(self.board, method)(*args)))

    def kill_actor(self, actor_id: str) -> None:
        raise AssertionError("not asked here")

    def remove_group(self, gid: str) -> None:
        raise AssertionError("not asked here")

    def node_entries(self) -> dict[str, Any]:
        return {}


def test_every_read_is_one_request_with_its_arguments() -> None:
    board = FakeDashboard()
    host = Host(board)
    dash = RemoteDashboard(ENDPOINT, 1.0, host)
    assert dash.jobs() == board.job_list
    assert dash.tasks("RUNNING") == board.task_list
    assert dash.job("gridtui-5e1f0a")["status"] == "RUNNING"
    assert dash.stop("gridtui-5e1f0a") is True
    assert host.asked == [("jobs", ()), ("tasks", ("RUNNING",)), ("job", ("gridtui-5e1f0a",)),
                          ("stop", ("gridtui-5e1f0a",))]  # fmt: skip
    assert board.calls == [("stop", "gridtui-5e1f0a")]
    with pytest.raises(GridError, match="driver process"):
        dash.jobs_client()  # Ray's own clients are never built in the console


def test_a_followed_job_gives_what_was_added_until_it_ends(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(remote, "FOLLOW_EVERY", 0.0)
    board = FakeDashboard()
    # The status is read before the log, so the read after the end still comes: nothing lost.
    reads = iter(["a\n", "a\nb\n", "a\nb\nc\n", "a\nb\nc\n"])
    job = board.job_list[0]

    def logs(jid: str) -> str:
        text = next(reads)
        if text.endswith("c\n"):
            job["status"] = "SUCCEEDED"  # it ended after this read was asked
        return text

    board.logs = logs  # type: ignore[method-assign]
    dash = RemoteDashboard(ENDPOINT, 1.0, Host(board))
    assert list(dash.follow("gridtui-5e1f0a", threading.Event())) == ["a\n", "b\n", "c\n"]


def test_the_host_answers_only_the_dashboards_reads_and_intents() -> None:
    host = WorkHost(ClusterConfig.model_validate({"name": "t", "nodes": [
        {"name": "h", "host": "127.0.0.2", "role": "head"}]}))  # fmt: skip
    with pytest.raises(GridError, match="does not answer '__init__'"):
        host.call(ENDPOINT, "__init__", ())
    with pytest.raises(GridError, match="does not answer 'jobs_client'"):
        host.call(ENDPOINT, "jobs_client", ())
    assert "submit" in remote.CALLS and "follow" not in remote.CALLS
