"""Typed access to the running GridApp from any screen or widget (no attr-defined ignores)."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual.dom import DOMNode

if TYPE_CHECKING:
    from gridtui.ui.app import GridApp


def grid_app(node: DOMNode) -> GridApp:
    """The app a node is mounted in: always a GridApp in this console."""
    return cast("GridApp", node.app)
