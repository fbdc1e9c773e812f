"""The footer: Textual's, rebuilt only when the keys it would show change."""

from __future__ import annotations

from textual.widgets import Footer


class KeysFooter(Footer):
    """Textual's footer rebuilds every key on each bindings signal. At start three come
    one after another (the table's focus, the screen's resume, the focus's own refresh),
    each pass ~0.1 s here, and all the same keys: the frame after the first waited for
    them. Here a pass that would draw what is on screen already is skipped."""

    def __init__(self) -> None:
        super().__init__()
        self._drawn: object = None

    def _keys(self) -> object:
        """Everything Footer.compose reads: a change in any of it rebuilds the keys."""
        app = self.app
        active = tuple(
            (key, binding, enabled, tooltip, app.get_key_display(binding))
            for key, (_node, binding, enabled, tooltip) in self.screen.active_bindings.items()
        )
        return (active, self.compact, self.show_command_palette, self.combine_groups)

    async def recompose(self) -> None:
        if not self.is_attached:
            return
        keys = self._keys()
        if keys == self._drawn:
            return
        await super().recompose()
        # Footer draws nothing until its first bindings signal: not a drawing to keep.
        self._drawn = keys if self.children else None
