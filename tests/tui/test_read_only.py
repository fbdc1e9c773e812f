"""The read-only console: every binding classified, every cluster-changing key refused."""

from __future__ import annotations

import contextlib
import importlib
import pkgutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fake_control import FakeControl, attach
from recorded import recorded_backend
from textual.app import App
from textual.binding import Binding
from textual.dom import DOMNode
from textual.pilot import Pilot
from textual.widgets import Static

import gridtui.ui
from gridtui.backend import Backend
from gridtui.model.operations import ShellExit
from gridtui.prefs import Prefs
from gridtui.services.cluster import console_ops as cluster_control
from gridtui.services.cluster import shell
from gridtui.ui.app import GridApp, make_app
from gridtui.ui.commands import console_commands
from gridtui.ui.readonly import CHANGES_CLUSTER, LOOKS_ONLY, action_name, changes_cluster
from gridtui.ui.screens.help import HelpScreen, own_bindings
from gridtui.ui.screens.main import MainScreen
from gridtui.ui.screens.offload import OffloadScreen
from gridtui.ui.screens.work import WorkScreen
from gridtui.ui.widgets.boosts_pane import BoostsPane
from gridtui.ui.widgets.header import ClusterHeader
from gridtui.ui.widgets.memory_pane import MemoryPane
from gridtui.ui.widgets.panes import NodesPane

SIZE = (140, 40)

# Where a cluster-changing binding is pressed from: the keys that focus its pane or open its
# screen (none: the default focus, the Nodes table). A class with such a binding must be
# listed here.
PRESS_FROM: dict[type[DOMNode], tuple[str, ...]] = {
    GridApp: (),
    MainScreen: (),
    NodesPane: ("1",),
    BoostsPane: ("3",),
    MemoryPane: ("4",),
    OffloadScreen: ("O", "t"),  # `enter` applies only in tuning
    WorkScreen: ("W",),
}


async def reach(pilot: Pilot[None], owner: type[DOMNode]) -> None:
    app = pilot.app
    assert isinstance(app, GridApp)
    if not isinstance(app.screen, owner):  # a screen is opened once, a pane refocused
        for key in PRESS_FROM[owner]:
            await pilot.press(key)
            if app.backend.offload is not None:  # the view tunes only once it has figures
                await app.backend.offload.refresh()
            await pilot.pause()
    await pilot.pause()


def console_classes() -> list[type[DOMNode]]:
    """Every widget, screen and app class of gridtui's console that declares bindings."""
    for info in pkgutil.walk_packages(gridtui.ui.__path__, "gridtui.ui."):
        importlib.import_module(info.name)
    found: dict[str, type[DOMNode]] = {}
    stack: list[type[Any]] = [DOMNode]
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        if cls.__module__.startswith("gridtui.ui.") and own_bindings(cls):
            found[cls.__qualname__] = cls
    return [found[name] for name in sorted(found)]


def refused_bindings() -> list[tuple[type[DOMNode], Binding]]:
    return [
        (cls, binding)
        for cls in console_classes()
        for binding in own_bindings(cls)
        if changes_cluster(binding.action)
    ]


def test_every_binding_says_whether_it_changes_the_cluster() -> None:
    """A new key fails here until its action is in CHANGES_CLUSTER or LOOKS_ONLY."""
    assert not CHANGES_CLUSTER & LOOKS_ONLY
    classes = console_classes()
    assert {GridApp, MainScreen, NodesPane, BoostsPane} <= set(classes)
    unclassified = [
        f"{cls.__qualname__}: {binding.key} -> {binding.action}"
        for cls in classes
        for binding in own_bindings(cls)
        if action_name(binding.action) not in CHANGES_CLUSTER | LOOKS_ONLY
    ]
    assert not unclassified, f"add these actions to gridtui/ui/readonly.py: {unclassified}"


def test_every_refused_binding_has_a_place_to_press_it() -> None:
    owners = {cls for cls, _ in refused_bindings()}
    assert owners <= set(PRESS_FROM), f"add to PRESS_FROM: {owners - set(PRESS_FROM)}"
    assert len(refused_bindings()) >= 10  # start, stop, stop node, install, shell, boosts…


@pytest.fixture
def fake() -> FakeControl:
    return FakeControl()


@pytest.fixture
def ray_backend(trace_path: Path, prefs_path: Path, fake: FakeControl) -> Backend:
    backend = recorded_backend(trace_path, Prefs(prefs_path), ray_view=True)
    attach(backend, fake)
    return backend


@pytest.fixture
def changes(
    ray_backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> Iterator[list[tuple[str, Any]]]:
    """Everything that would reach the cluster: cluster operations and shells."""
    seen: list[tuple[str, Any]] = []

    class Ops:
        def __init__(self, progress: Any) -> None:
            pass

        async def __aenter__(self) -> Ops:
            return self

        async def __aexit__(self, *exc: object) -> None:
            pass

        def __getattr__(self, name: str) -> Any:
            async def call(*args: Any, **kwargs: Any) -> Any:
                seen.append((name, args))

            return call

    ray_backend.ops_factory = Ops  # type: ignore[assignment]
    monkeypatch.setattr(shell.shutil, "which", lambda name: f"/usr/bin/{name}")

    @contextlib.contextmanager
    def no_suspend(self: App[Any]) -> Iterator[None]:
        yield

    monkeypatch.setattr(App, "suspend", no_suspend)
    monkeypatch.setattr(
        cluster_control,
        "run_interactive",
        lambda argv, capture_stderr: seen.append(("shell", argv)) or ShellExit(0),
    )
    yield seen


def messages(app: GridApp) -> list[str]:
    return [n.message for n in app._notifications]


def shown_actions(app: GridApp) -> set[str]:
    """The actions the footer offers right now (enabled active bindings)."""
    return {a.binding.action for a in app.screen.active_bindings.values() if a.enabled}


async def test_writable_console_offers_every_key_read_only_refuses(
    ray_backend: Backend, changes: list[Any]
) -> None:
    """The other side of the next test: each key is live from where it is pressed there."""
    app = make_app(ray_backend)
    async with app.run_test(size=SIZE) as pilot:
        for owner, binding in refused_bindings():
            await reach(pilot, owner)
            assert binding.action in shown_actions(app), (owner, binding.key)
        assert "read-only" not in str(app.screen.query_one(ClusterHeader).render())


async def test_read_only_console_refuses_every_key_that_changes_the_cluster(
    ray_backend: Backend, fake: FakeControl, changes: list[Any]
) -> None:
    app = make_app(ray_backend, read_only=True)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        assert app.read_only
        hint = str(app.screen.query_one("#boosts-empty", Static).content)
        assert "read-only: it cannot request one" in hint and "b on a node" not in hint
        for owner, binding in refused_bindings():
            await reach(pilot, owner)
            assert not {a for a in shown_actions(app) if changes_cluster(a)}, owner
            before, screen, depth = len(messages(app)), app.screen, len(app.screen_stack)
            await pilot.press(binding.key)
            await app.workers.wait_for_complete()
            await pilot.pause()
            what = binding.description[:1].lower() + binding.description[1:]
            key = app.get_key_display(binding)
            assert messages(app)[before:] == [
                f"read-only console: {key} ({what}) changes the cluster"
            ], binding.key
            assert app.screen is screen and len(app.screen_stack) == depth  # nothing opened
        assert fake.calls == [] and changes == []
        # A key that only looks still works: the help opens.
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        rows = {key: what for _, key, what in app.screen.rows}
        assert rows["b"].endswith(" (not in a read-only console)")
        assert not rows["l"].endswith(" (not in a read-only console)")


async def test_boost_refusal_reads_as_documented(ray_backend: Backend) -> None:
    app = make_app(ray_backend, read_only=True)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press("b")
        await pilot.pause()
        assert messages(app) == ["read-only console: b (boost) changes the cluster"]


async def test_palette_offers_no_change_and_refuses_one_run_anyway(
    ray_backend: Backend, fake: FakeControl
) -> None:
    writable = make_app(ray_backend)
    async with writable.run_test(size=SIZE):
        all_titles = {c.title for c in console_commands(writable, writable.screen)}
    app = make_app(ray_backend, read_only=True)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        titles = {c.title for c in console_commands(app, app.screen)}
        assert "Boost the selected node…" in all_titles - titles
        assert "Stop the whole Ray cluster" in all_titles - titles
        assert {"Node detail", "Ray logs of the selected node", "Quit gridtui"} <= titles
        # What a palette entry does: the screen runs the action by its bare name.
        await app.screen.run_action("quick_boost('gpu')")
        await pilot.pause()
        assert messages(app) == ["read-only console: g (+1 GPU) changes the cluster"]
        assert fake.calls == []


async def test_the_file_makes_the_console_read_only_once_read(
    ray_backend: Backend, fake: FakeControl
) -> None:
    """`ui.read_only: true` is only known after the first frame: the header and the footer
    follow when the file is read."""
    ui = ray_backend.config.ui.model_copy(update={"read_only": True})
    ray_backend.config = ray_backend.config.model_copy(update={"ui": ui})
    app = GridApp(load=lambda: ray_backend)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        while not app.ready:
            await pilot.pause()
        await pilot.pause()
        assert app.read_only
        header = app.screen.query_one(ClusterHeader)
        assert " read-only " in str(header.render())
        assert not {a for a in shown_actions(app) if changes_cluster(a)}
        await pilot.press("plus")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "read-only console: + (+1 CPU) changes the cluster" in messages(app)
        assert fake.calls == []
