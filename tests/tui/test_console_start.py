"""The console's start and end: first frame before the cluster file is read, a bad file still
ends in its one-line errors, and a demo this console started is never left without a word."""

from __future__ import annotations

import argparse
import gc
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from screen_text import screen_text

from gridtui import cli
from gridtui.backend import Backend
from gridtui.config import ConfigError
from gridtui.errors import GridError
from gridtui.prefs import Prefs
from gridtui.services.cluster import demo
from gridtui.ui import console
from gridtui.ui.app import GridApp
from gridtui.ui.widgets.nodes_table import NodesTable
from gridtui.ui.widgets.sparklines import NodeSparks

SIZE = (140, 40)

GOOD = """\
name: twin
alerts: {cpu_percent: 80}
nodes:
  - {name: alpha, host: 127.0.0.2, transport: local, role: head}
  - {name: bravo, host: 127.0.0.3, transport: local}
"""


def loading_app(
    path: Path,
    tmp_path: Path,
    hold: threading.Event | None = None,
    after_first_frame: Callable[[], None] | None = None,
) -> GridApp:
    prefs = Prefs(tmp_path / "prefs.json")

    def load() -> Backend:
        if hold is not None:
            hold.wait(30)  # the test looks at the screen before the file is read
        backend = Backend.for_console(str(path), prefs)
        backend.streaming = backend.ray = False  # no agents or Ray in this test
        return backend

    return GridApp(
        load=load,
        loading=f"reading {path.name}…",
        prefs=prefs,
        after_first_frame=after_first_frame,
    )


async def test_first_frame_comes_before_the_file_then_the_nodes(tmp_path: Path) -> None:
    path = tmp_path / "twin.yaml"
    path.write_text(GOOD)
    hold = threading.Event()
    app = loading_app(path, tmp_path, hold)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert "reading twin.yaml…" in screen_text(app)  # the whole screen, file not read
        assert app.screen.query_one(NodesTable).row_count == 0
        await pilot.press("u", "enter")  # keys before the file is read say so
        assert not app.ready
        hold.set()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.ready
        table = app.screen.query_one(NodesTable)
        assert sorted(table.visible_names) == ["alpha", "bravo"]
        assert table.hot_percent == 80  # the file's thresholds, once read
        assert "twin" in screen_text(app)
        messages = [n.message for n in app._notifications]
        assert "The cluster file is still being read" in messages
        assert "No node selected: the cluster file is still being read" in messages


async def test_the_first_frame_is_whole_and_the_panes_fill_in_after_it(tmp_path: Path) -> None:
    """Issue 7: the first frame draws the header and every pane's frame and title; what the
    panes hold (sparklines, the Boosts table) is built right after it, as are the footer's
    keys (Textual's footer draws them from the frame after the first, always has)."""
    path = tmp_path / "twin.yaml"
    path.write_text(GOOD)
    hold = threading.Event()
    first: list[str] = []
    app = loading_app(
        path, tmp_path, hold, after_first_frame=lambda: first.append(screen_text(app))
    )
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.screen.query(NodeSparks) and app.screen.query("#boosts-table")
        hold.set()
        await app.workers.wait_for_complete()
        await pilot.pause()
    assert len(first) == 1
    for text in ("reading twin.yaml…", "1 Nodes", "2 Sparklines", "3 Boosts & allocations",
                 "4 Memory objects", "5 Offload events", "Ray not connected yet"):  # fmt: skip
        assert text in first[0], text


def test_the_console_runs_its_first_frame_without_the_collector(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cyclic collector's full pass cost the first frame ~0.1 s: the CLI turns it off
    for the console, which hands it back on to the app's first frame, and on at the end."""
    seen: dict[str, object] = {}

    def run(self: GridApp) -> None:
        seen["during"] = gc.isenabled()
        seen["after_first_frame"] = self._after_first_frame
        self.load_error = ConfigError("bad.yaml:3: nodes.0.port: too big")

    monkeypatch.setattr(GridApp, "run", run)
    assert cli.main(["-c", str(tmp_path / "bad.yaml")]) == 2
    assert seen == {"during": False, "after_first_frame": gc.enable}
    assert gc.isenabled()


async def test_a_bad_file_ends_the_console_with_its_errors(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("name: x\nnodes:\n  - {name: a, host: h, port: 99999}\n")
    app = loading_app(path, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
    assert isinstance(app.load_error, ConfigError)
    assert app.return_code == 2
    assert "bad.yaml:3" in str(app.load_error)


def test_run_console_reraises_the_file_error_for_the_cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The CLI's one handler prints it (exit 2), as before the console drew anything."""
    failure = ConfigError("bad.yaml:3: nodes.0.port: too big")

    def run(self: GridApp) -> None:
        self.load_error = failure

    monkeypatch.setattr(GridApp, "run", run)
    with pytest.raises(GridError) as raised:
        console.run_console(argparse.Namespace(config=str(tmp_path / "bad.yaml"), theme=None))
    assert raised.value is failure


@pytest.fixture
def demo_processes(tmp_path: Path) -> list[subprocess.Popen[bytes]]:
    """Stand-ins for the demo's raylets: processes whose argv names the demo's temp dirs."""
    config = demo.demo_config()
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", "import time; time.sleep(120)", f"{config.ray.temp_dir}/{n}"]
        )
        for n in ("head", "worker-1")
    ]
    yield procs
    for proc in procs:
        proc.kill()
        proc.wait()


def test_quitting_a_demo_this_console_started_says_how_to_stop_it(
    demo_processes: list[subprocess.Popen[bytes]],
) -> None:
    backend = Backend.for_console(None)
    assert backend.config.demo
    demo.write_state({**demo.read_state(), "started": time.time(), "console_pid": -1})
    assert console.exit_note(backend) == ""  # another console's demo: not ours to mention
    demo.write_state({**demo.read_state(), "console_pid": __import__("os").getpid()})
    note = console.exit_note(backend)
    assert note.startswith("gridtui: the demo cluster this console started is still running (2 ")
    assert note.endswith("stop it with: gridtui demo stop")
    for proc in demo_processes:  # stopped (D, or `gridtui demo stop`): nothing to say
        proc.kill()
        proc.wait()
    assert console.exit_note(backend) == ""


def test_a_cluster_file_never_gets_the_demo_note(tmp_path: Path) -> None:
    path = tmp_path / "twin.yaml"
    path.write_text(GOOD)
    assert console.exit_note(Backend.for_console(str(path))) == ""
