"""The console's Work reads through its driver process (services/work/remote.py), without Ray:
what crosses the link, what the host refuses, and a followed log read by polling."""

from __future__ import annotations

import pickle
import threading
from typing import Any

import pytest
from fake_work import FakeDashboard

from gridtui.errors import GridError
from gridtui.services.ray.driver_calls import DriverCall
from gridtui.services.work import remote
from gridtui.services.work.dashboard import Dashboard
from gridtui.services.work.endpoint import JobEndpoint
from gridtui.services.work.remote import OnWork, RemoteDashboard

ENDPOINT = JobEndpoint("http://127.0.0.1:8265", {"Authorization": "Bearer t"})


class Party:
    """The driver process as OnWork reaches it: the Dashboard for the endpoint asked."""

    def __init__(self, board: FakeDashboard) -> None:
        self.board = board

    def dashboard(self, endpoint: JobEndpoint) -> Dashboard:
        assert endpoint == ENDPOINT
        return self.board


class Link:
    """The driver link: every request and answer pickled on the way, as HostLink sends them."""

    def __init__(self, board: FakeDashboard) -> None:
        self.party = Party(board)
        self.asked: list[tuple[str, tuple[Any, ...]]] = []

    def call(self, call: DriverCall[Any]) -> Any:
        call = pickle.loads(pickle.dumps(call))
        assert isinstance(call, OnWork)
        self.asked.append((call.method.__name__, call.args))
        return pickle.loads(pickle.dumps(call.run(self.party)))  # type: ignore[arg-type]


def test_every_read_is_one_request_with_its_arguments() -> None:
    board = FakeDashboard()
    host = Link(board)
    dash = RemoteDashboard(ENDPOINT, 1.0, host)  # type: ignore[arg-type]
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
    dash = RemoteDashboard(ENDPOINT, 1.0, Link(board))  # type: ignore[arg-type]
    assert list(dash.follow("gridtui-5e1f0a", threading.Event())) == ["a\n", "b\n", "c\n"]


def test_the_driver_answers_only_the_dashboards_reads_and_intents() -> None:
    party = Party(FakeDashboard())
    for method in (Dashboard.__init__, Dashboard.jobs_client, Dashboard.follow, Dashboard._call):
        with pytest.raises(GridError, match=f"does not answer '{method.__name__}'"):
            OnWork(ENDPOINT, method, (), {}).run(party)  # type: ignore[arg-type]
    assert Dashboard.submit in remote.CALLS and Dashboard.follow not in remote.CALLS


def test_an_unnamed_actor_is_refused_in_one_line_and_the_request_pickles() -> None:
    from gridtui.errors import Refused
    from gridtui.services.work.remote import KillActor

    call = pickle.loads(pickle.dumps(KillActor("a" * 32, "", "theirs")))
    with pytest.raises(Refused, match=r"^actor a{12} has no name: Ray lets only its owner"):
        call.run(None)  # type: ignore[arg-type]
