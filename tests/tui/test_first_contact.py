"""Waits are bounded and said, failures say why in their own words, no key does nothing."""

from __future__ import annotations

import asyncio
import contextlib
import re
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from screen_text import screen_text
from textual.app import App
from textual.widgets import DataTable, Log

from gridtui.backend import Backend
from gridtui.config import ClusterConfig
from gridtui.prefs import Prefs
from gridtui.services.cluster.lifecycle import ClusterError, NodeProgress, StartReport
from gridtui.services.metrics.hub import MetricsHub
from gridtui.ui.app import GridApp, make_app
from gridtui.ui.screens.cluster_progress import ClusterProgressScreen
from gridtui.ui.screens.help import HelpScreen
from gridtui.ui.screens.main import MainScreen
from gridtui.ui.screens.ray_logs import RayLogScreen

SIZE = (140, 40)


def messages(app: GridApp) -> list[tuple[str, str]]:
    return [(n.message, n.severity) for n in app._notifications]


class StuckOps:
    """A cluster whose start fails halfway and whose nodes never send their logs."""

    def __init__(self, calls: list[str], progress: Any) -> None:
        self.calls, self.progress = calls, progress or (lambda e: None)

    async def __aenter__(self) -> StuckOps:
        return self

    async def __aexit__(self, *exc: object) -> None:
        pass

    async def start(self) -> StartReport:
        self.calls.append("start")
        self.progress(NodeProgress("ws", "check", "ok"))
        self.progress(NodeProgress("ws", "start", "running", "ray start --head"))
        self.progress(NodeProgress("box1", "check", "running"))
        raise ClusterError("the head did not start (nothing is left running)")

    async def logs(self, node: str, lines: int = 200) -> dict[str, list[str]]:
        self.calls.append(f"logs {node}")
        await asyncio.Event().wait()  # a silent node: no answer, ever
        return {}


@pytest.fixture
def calls(app: GridApp) -> list[str]:
    recorded: list[str] = []
    app.backend.ops_factory = lambda progress: StuckOps(recorded, progress)  # type: ignore[assignment,return-value]
    return recorded


@pytest.mark.parametrize("key", ["enter", "l", "o", "x"])
async def test_a_key_with_no_row_selected_says_why(
    app: GridApp, calls: list[str], key: str
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("slash", "z", "z", "z", "enter")  # a filter that matches nothing
        await pilot.press(key)
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)
        assert messages(app) == [
            ("No node selected: the filter 'zzz' matches no node (escape clears it)", "warning")
        ]
        assert calls == []


async def test_a_failed_start_leaves_no_row_saying_running(app: GridApp, calls: list[str]) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("u", "y")
        await app.workers.wait_for_complete()
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ClusterProgressScreen) and screen.finished is False
        shown = screen_text(app)
        assert ": running" not in shown and "running…" not in shown
        assert "failed: the head did not start (nothing is left running)" in shown
        assert "start: stopped, the operation ended first" in shown  # ws was mid-start
        assert "not started: the operation ended first" in shown  # box2 never began
        assert calls == ["start"]


async def test_logs_of_a_silent_node_say_what_they_wait_for_then_time_out(
    app: GridApp, calls: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(RayLogScreen, "TIMEOUT", 4.0)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("down", "l")  # box2
        await pilot.pause()
        assert isinstance(app.screen, RayLogScreen)
        shown = screen_text(app)
        host = app.snapshot.node("box2").host  # type: ignore[union-attr]
        assert f"waiting for box2 ({host}) to answer" in shown
        assert "(reading the Ray logs of box2…)" in shown
        await app.workers.wait_for_complete()
        await pilot.pause()
        text = "\n".join(app.screen.query_one(Log).lines)
        assert "no answer from box2 within 4 s" in text
        assert "no answer from box2 within 4 s" in screen_text(app)
        assert calls == ["logs box2"]


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.2", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def no_suspend(self: App[Any]) -> Iterator[None]:
    yield


async def test_a_failed_shell_shows_ssh_own_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A real ssh to a port nobody listens on: its own words reach the notification."""
    config = ClusterConfig.model_validate(
        {
            "name": "refusing",
            "ssh": {"use_ssh_config": False, "known_hosts": str(tmp_path / "known_hosts")},
            "nodes": [{"name": "n1", "host": "127.0.0.2", "port": closed_port(), "role": "head"}],
        }
    )
    backend = Backend(
        config=config,
        prefs=Prefs(tmp_path / "prefs.json"),
        hub=MetricsHub(config),
        streaming=False,
        ray=False,
    )
    monkeypatch.setattr(App, "suspend", no_suspend)  # headless: there is no terminal to give
    app = make_app(backend)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("o")
        await pilot.pause()
        [(message, severity)] = messages(app)
        assert severity == "warning"
        assert "ssh exited 255: ssh: connect to host 127.0.0.2 port" in message
        assert message.endswith("Connection refused")


async def test_q_says_so_at_once_and_leaves_when_the_backend_hangs(app: GridApp) -> None:
    async def hangs() -> None:
        await asyncio.Event().wait()

    app.backend.stop = hangs  # type: ignore[method-assign]
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("q")
        assert any(n.title == "Quitting" for n in app._notifications)
        for _ in range(200):  # a guard against hanging, not a measure
            if not app.is_running:
                break
            await asyncio.sleep(0.05)
        assert not app.is_running
    assert app.return_code == 0


@pytest.mark.parametrize("width", [160, 120, 80])
async def test_help_shows_every_action_whole(app: GridApp, width: int) -> None:
    async with app.run_test(size=(width, 60)) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        # The table scrolls when the keys outgrow the terminal: read it page by page, the
        # pages overlapping so a wrapped row is whole on at least one of them.
        table = app.screen.query_one("#help-keys", DataTable)
        pages: list[tuple[str, str]] = []
        while True:
            # The box's and the screen behind's borders are not words.
            lines = [re.sub("[█│▕▏▄▀▃▂▁▅▆▇]", " ", x) for x in screen_text(app).splitlines()]
            pages.append(("\n".join(lines), " ".join(" ".join(lines).split())))
            if table.scroll_y >= table.max_scroll_y:
                break
            table.scroll_to(y=table.scroll_y + table.scrollable_content_region.height - 3,
                            animate=False)  # fmt: skip
            await pilot.pause()
        for _, _, what in app.screen.rows:
            if width >= 120:  # on one line, whole
                assert any(what in text for text, _ in pages), what
            # wrapped when narrow, never cut
            assert any(" ".join(what.split()) in words for _, words in pages), what
