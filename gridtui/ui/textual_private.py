"""The one place gridtui reaches into Textual's private names (a test names each one)."""

from __future__ import annotations

from typing import TypeVar

from textual.screen import Screen

ResultType = TypeVar("ResultType")

PRIVATE_NAMES = ("Screen._compositor_refresh", "Widget._repaint_required")
"""What this module relies on, as `Class.name` on Textual 8.2.8 (tests/unit check each)."""


class QuietBeneath(Screen[ResultType]):
    """A screen that, under a modal, stops asking for the modal to be redrawn again.

    On Textual 8.2.8, when a screen beneath a modal changes, `_compositor_refresh` hands
    the changed regions to the modal on top (right: it shows them through its translucent
    background) and also marks the screen itself for repaint. At the screen's next idle,
    after any message it handles (a snapshot each second here), that repaint hands the
    same regions to the modal again, and so on for as long as the modal stays: each time,
    the modal re-renders the whole screen beneath through its tint (renderables/
    background_screen.py), 4x the dashboard's own cost on the demo (bench/overlays.py).
    The repaint it asks for is already done; the screen repaints whole when it is on top
    again (`_on_screen_resume`), so the flag is dropped here, beneath only."""

    def _compositor_refresh(self) -> None:
        super()._compositor_refresh()
        if self.app.screen is not self:
            self._repaint_required = False
