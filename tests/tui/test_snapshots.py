"""Snapshot tests: the real console on the recorded lab trace, at a fixed terminal size."""

from __future__ import annotations

from collections.abc import Callable

from gridtui.backend import Backend
from gridtui.ui.app import GridApp, make_app

SnapCompare = Callable[..., bool]

SIZE = (140, 40)


class TestMainScreen:
    def test_main(self, app: GridApp, snap_compare: SnapCompare) -> None:
        assert snap_compare(app, terminal_size=SIZE)

    def test_main_sorted_and_filtered(self, app: GridApp, snap_compare: SnapCompare) -> None:
        assert snap_compare(
            app, terminal_size=SIZE, press=["s", "S", "slash", "b", "o", "x", "enter"]
        )


class TestNodeDetail:
    def test_gpu_node(self, app: GridApp, snap_compare: SnapCompare) -> None:
        assert snap_compare(app, terminal_size=SIZE, press=["down", "down", "enter"])


class TestHelp:
    def test_help(self, app: GridApp, snap_compare: SnapCompare) -> None:
        assert snap_compare(app, terminal_size=SIZE, press=["question_mark"])


class TestThemes:
    def test_paper_theme(self, backend: Backend, snap_compare: SnapCompare) -> None:
        assert snap_compare(make_app(backend, theme="gridtui-paper"), terminal_size=SIZE)
