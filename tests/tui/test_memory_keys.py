"""Pilot tests of the Memory objects pane and its keys, on recorded data and a fake store."""

from __future__ import annotations

import asyncio
import os
import stat
from pathlib import Path

import pytest
from fake_control import FakeControl, attach
from fake_memory import GIB, FakeMemory, MiB, attach_memory, lab_memory
from recorded import recorded_backend
from textual.pilot import Pilot
from textual.widgets import Checkbox, Input, Label

from gridtui.model.units import size
from gridtui.prefs import Prefs
from gridtui.services.memory.client import MemoryRefused
from gridtui.ui.app import GridApp, make_app
from gridtui.ui.screens.confirm import ConfirmScreen
from gridtui.ui.screens.main import MainScreen
from gridtui.ui.screens.memory_forms import RetrieveForm, StoreForm, complete_path
from gridtui.ui.screens.object_info import ObjectInfoScreen
from gridtui.ui.widgets.memory_pane import MemoryPane, UsageBars
from gridtui.ui.widgets.nodes_table import NodesTable
from gridtui.ui.widgets.transfer_panel import TransferPanel

SIZE = (140, 40)


@pytest.fixture
def fake() -> FakeMemory:
    return FakeMemory(lab_memory())


@pytest.fixture
def app(trace_path: Path, prefs_path: Path, fake: FakeMemory) -> GridApp:
    backend = recorded_backend(trace_path, Prefs(prefs_path), ray_view=True)
    attach(backend, FakeControl())
    attach_memory(backend, fake)
    return make_app(backend)


def pane(app: GridApp) -> MemoryPane:
    return app.screen.query_one(MemoryPane)


def messages(app: GridApp) -> list[tuple[str, str]]:
    return [(n.message, n.severity) for n in app._notifications]


def keys(app: GridApp) -> list[str]:
    return [o.key for o in pane(app).rows]


async def settle(app: GridApp) -> None:
    await app.workers.wait_for_complete()
    for screen in app.screen_stack:
        await screen.workers.wait_for_complete()


async def start_held_store(
    pilot: Pilot[None], app: GridApp, fake: FakeMemory, tmp_path: Path
) -> None:
    """`4 s`, a 12 MiB file, enter: a store the fake holds after its first chunk."""
    (tmp_path / "big").write_bytes(b"x" * (12 * MiB))
    fake.hold.clear()
    await pilot.press("4", "s")
    app.screen.query_one("#memory-path", Input).value = str(tmp_path / "big")
    await pilot.pause()
    await pilot.press("enter")
    await asyncio.wait_for(fake.started.wait(), 10)


async def test_pane_lists_objects_bars_and_the_stored_column(app: GridApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        p = pane(app)
        assert keys(app) == [
            "cache/old", "dataset.parquet", "runs/2025-06-01/checkpoint-0042.pt", "weights/v3",
        ]  # fmt: skip
        row = [c.plain for c in p.table.get_row_at(0)]
        assert row == ["cache/old", "64.0M", "-", "0/1", "15m", "lost"]
        assert [c.plain for c in p.table.get_row_at(3)][2:4] == ["box1,ws", "2/2"]
        bars = p.query_one(UsageBars).render()
        lines = str(bars).splitlines()
        assert [line.split()[0] for line in lines] == ["box1", "box2", "box3", "ws"]
        assert lines[1].endswith("812.0M/4.0G")  # 300 MiB stored + 512 MiB being stored
        table = app.screen.query_one(NodesTable)
        assert table.get_cell("ws", "stored") == size(int(1.2 * GIB) + 96 * MiB)
        assert table.get_cell("box3", "stored") == "0B"
        assert table.get_cell("box2", "stored") == "300.0M"


async def test_store_dialog_checks_before_sending_then_stores(
    app: GridApp, fake: FakeMemory, tmp_path: Path
) -> None:
    data = bytes(range(256)) * (40 * 1024)  # 10 MiB: three chunks
    (tmp_path / "model-a.bin").write_bytes(data)
    (tmp_path / "model-b.bin").write_bytes(b"")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("4", "s")
        form = app.screen
        assert isinstance(form, StoreForm)
        path = form.query_one("#memory-path", Input)
        assert app.focused is path
        path.value = str(tmp_path / "mo")
        await pilot.press("end", "tab")  # the common start of both files
        assert path.value == str(tmp_path / "model-")
        await pilot.press("a", "tab")
        assert path.value == str(tmp_path / "model-a.bin")
        await pilot.pause()
        key = form.query_one("#memory-key", Input)
        assert key.value == "model-a.bin" and form.error == ""

        for field, value, error in (
            ("key", "bad key!", "characters outside"),
            ("key", "dataset.parquet", "exists: tick Replace"),
            ("replicas", "9", "9 replicas but 3 live nodes"),
            ("node", "box3", "no live node 'box3'"),
            ("path", str(tmp_path / "nothing"), "no such file"),
            ("path", str(tmp_path), "it is a directory"),
        ):
            widget = form.query_one(f"#memory-{field}", Input)
            before = widget.value
            widget.value = value
            await pilot.pause()
            assert error in form.error, (field, form.error)
            if field == "key":
                await pilot.press("enter")  # refused by the dialog: nothing sent
                assert app.screen is form and fake.calls == []
            widget.value = before
            await pilot.pause()  # a path put back sets the key again (it follows the file)

        key.value = "dataset.parquet"
        form.query_one("#memory-force", Checkbox).value = True
        form.query_one("#memory-replicas", Input).value = "2"
        form.query_one("#memory-node", Input).value = "box1"
        await pilot.pause()
        assert form.error == ""
        key.focus()
        await pilot.press("enter")
        await settle(app)
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)
        assert fake.calls == [
            ("store", "dataset.parquet", str(tmp_path / "model-a.bin"), "box1", 2, True)
        ]
        assert fake.data["dataset.parquet"] == data
        assert next(o for o in pane(app).rows if o.key == "dataset.parquet").size == len(data)
        assert any(
            m.startswith("Stored dataset.parquet (10.0 MiB) on box1") for m, _ in messages(app)
        )

        await pilot.press("s")
        assert isinstance(app.screen, StoreForm)
        await pilot.press("escape")  # cancelled: nothing sent
        assert isinstance(app.screen, MainScreen) and len(fake.calls) == 1


async def test_retrieve_writes_the_selected_object_to_a_checked_path(
    app: GridApp, fake: FakeMemory, tmp_path: Path
) -> None:
    data = b"gridtui" * 1_000_000
    source = tmp_path / "blob"
    source.write_bytes(data)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("4", "s")
        form = app.screen
        form.query_one("#memory-path", Input).value = str(source)
        await pilot.pause()
        await pilot.press("enter")
        await settle(app)
        await pilot.pause()
        assert keys(app).index("blob") == 0
        await pilot.press("up", "r")
        form = app.screen
        assert isinstance(form, RetrieveForm) and form.key == "blob"
        path = form.query_one("#memory-path", Input)
        path.value = str(tmp_path / "missing" / "out")
        await pilot.pause()
        assert "no such directory" in form.error
        await pilot.press("enter")
        assert app.screen is form and fake.calls[-1][0] == "store"
        path.value = str(tmp_path / "out")
        await pilot.pause()
        await pilot.press("enter")
        await settle(app)
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)
        assert fake.calls[-1] == ("retrieve", "blob", str(tmp_path / "out"))
        assert (tmp_path / "out").read_bytes() == data
        assert any(m.startswith("Retrieved blob") for m, _ in messages(app))


async def test_a_retrieve_to_any_kind_of_path_is_one_notification(
    app: GridApp, fake: FakeMemory, tmp_path: Path
) -> None:
    """A device is written, never replaced; /dev/full and a FIFO nobody reads are one
    notification each (the driver process's real refusals), and the console goes on."""
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    (tmp_path / "blob").write_bytes(b"gridtui" * 1000)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("4", "s")
        app.screen.query_one("#memory-path", Input).value = str(tmp_path / "blob")
        await pilot.pause()
        await pilot.press("enter")
        await settle(app)
        await pilot.pause()
        for target in ("/dev/null", "/dev/full", str(fifo)):
            before = len(messages(app))
            await pilot.press("up", "r")
            form = app.screen
            assert isinstance(form, RetrieveForm)
            form.query_one("#memory-path", Input).value = target
            await pilot.pause()
            assert form.error == ""
            assert form.query_one("#memory-path-hint", Label).content.startswith("writes ")
            await pilot.press("enter")
            await settle(app)
            await pilot.pause()
            assert isinstance(app.screen, MainScreen)
            assert len(messages(app)) == before + 1
        said = messages(app)[-3:]
        assert said[0][0].startswith("Retrieved blob") and said[0][1] == "information"
        assert said[1] == ("cannot write /dev/full: No space left on device", "error")
        assert said[2] == (f"cannot write {fifo}: it is a FIFO and no process reads it", "error")
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode) and stat.S_ISFIFO(fifo.stat().st_mode)


async def test_escape_cancels_a_transfer_half_way_and_nothing_is_stored(
    app: GridApp, fake: FakeMemory, tmp_path: Path
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await start_held_store(pilot, app, fake, tmp_path)
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)  # on the dashboard, not a screen above it
        shown = app.screen.query_one(TransferPanel)
        assert shown.latest is not None and shown.latest.done == 4 * MiB
        await pilot.press("escape")
        assert shown.cancel.is_set() and shown.is_attached  # up until cleaned up
        fake.hold.set()
        await settle(app)
        await pilot.pause()
        assert not app.screen.query(TransferPanel)
        assert "big" not in fake.data and "big" not in keys(app)
        assert ("Store of big cancelled: nothing was stored", "information") in messages(app)


async def test_a_second_transfer_is_refused_while_one_runs_and_other_keys_work(
    app: GridApp, fake: FakeMemory, tmp_path: Path
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await start_held_store(pilot, app, fake, tmp_path)
        await pilot.pause()
        main = app.screen
        assert isinstance(main, MainScreen) and main.query_one(TransferPanel).latest
        await pilot.press("s", "r")  # neither opens a form: one transfer at a time
        assert app.screen is main
        refused = [m for m, _ in messages(app) if m == "a transfer is already running"]
        assert len(refused) == 2
        await pilot.press("1", "/", "b")  # the panes and the filter still take their keys
        assert main.table.has_focus is False and main.table.filter_text == "b"
        await pilot.press("escape")  # cancels the transfer, even from the filter line
        assert main.query_one(TransferPanel).cancel.is_set()
        fake.hold.set()
        await settle(app)
        await pilot.pause()
        assert not main.query(TransferPanel)
        assert [c[0] for c in fake.calls] == ["store"]
        await pilot.press("escape")  # the panel gone, escape is the filter's again
        assert main.table.filter_text == ""


async def test_delete_asks_first_and_a_refusal_is_one_line(app: GridApp, fake: FakeMemory) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("4", "down", "d")
        assert isinstance(app.screen, ConfirmScreen)
        assert "dataset.parquet" in app.screen.title_text
        await pilot.press("n")
        assert fake.calls == [] and "dataset.parquet" in keys(app)
        await pilot.press("d", "y")
        await settle(app)
        await pilot.pause()
        assert fake.calls == [("delete", "dataset.parquet")]
        assert "dataset.parquet" not in keys(app)
        assert ("Deleted dataset.parquet (300.0 MiB)", "information") in messages(app)

        fake.fail = MemoryRefused("the memory index did not answer in 60s")
        await pilot.press("d", "y")
        await settle(app)
        await pilot.pause()
        assert ("the memory index did not answer in 60s", "error") in messages(app)


async def test_enter_shows_the_selected_objects_details(app: GridApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("4", "down", "down", "down", "enter")
        shown = app.screen
        assert isinstance(shown, ObjectInfoScreen) and shown.obj.key == "weights/v3"
        body = str(shown.query_one("#info-body").content)
        assert shown.obj.sha256 in body and "2 of 2" in body
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)


def test_path_completion(tmp_path: Path) -> None:
    (tmp_path / "alpha.txt").write_text("")
    (tmp_path / "alps").mkdir()
    (tmp_path / ".hidden").write_text("")
    base = str(tmp_path)
    assert complete_path(base + "/al") == base + "/alp"
    assert complete_path(base + "/alps") == base + "/alps/"
    assert complete_path(base + "/alph") == base + "/alpha.txt"
    assert complete_path(base + "/.h") == base + "/.hidden"
    assert complete_path(base + "/zz") is None
    assert complete_path(base + "/alpha.txt") is None


async def test_a_resize_to_tabs_waits_for_the_transfer_to_end(
    app: GridApp, fake: FakeMemory, tmp_path: Path
) -> None:
    """Recomposing the panes would take the panel, and escape's cancel, down with them."""
    async with app.run_test(size=SIZE) as pilot:
        await start_held_store(pilot, app, fake, tmp_path)
        main = app.screen
        assert isinstance(main, MainScreen)
        await pilot.resize_terminal(90, 28)
        await pilot.pause()
        assert not main.compact and main.query(TransferPanel)
        fake.hold.set()
        await settle(app)
        await pilot.pause()
        assert main.compact and not main.query(TransferPanel)
        assert "big" in fake.data
