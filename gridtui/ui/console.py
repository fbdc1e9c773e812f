"""Opens the console: its first frame at once, the cluster file read right after it."""

from __future__ import annotations

import argparse
import gc
import sys
from typing import TYPE_CHECKING

from gridtui.prefs import Prefs
from gridtui.ui.app import GridApp

if TYPE_CHECKING:
    from gridtui.backend import Backend


def run_console(args: argparse.Namespace) -> int:
    config: str | None = args.config

    def load() -> Backend:
        # Imported here, in the app's loading thread: the back-end's modules (pydantic
        # above all) cost more than the whole first frame.
        from gridtui.backend import Backend

        return Backend.for_console(config, prefs)

    # What the imports made lives as long as the process: frozen, the collector never walks
    # it again. The CLI turned the collector off for the first frame; it is back on after it.
    gc.freeze()
    prefs = Prefs()
    loading = f"reading {config}…" if config else "reading the cluster file…"
    app = GridApp(
        theme=args.theme,
        load=load,
        loading=loading,
        prefs=prefs,
        read_only=getattr(args, "read_only", False),
        after_first_frame=gc.enable,
        view=getattr(args, "console_view", ""),
    )
    try:
        app.run()
    finally:
        gc.enable()
    if app.load_error is not None:
        # A ConfigError reaches the CLI's one handler (one line per problem, exit 2).
        raise app.load_error
    if app.ready:
        note = exit_note(app.backend)
        if note:
            print(note, file=sys.stderr)
    return app.return_code or 0


def exit_note(backend: Backend) -> str:
    """What the terminal should hear after the console: a demo it started still runs."""
    count, rss = backend.demo_left_running()
    if not count:
        return ""
    return (
        f"gridtui: the demo cluster this console started is still running ({count} Ray "
        f"processes, {rss / 1024**3:.1f} GiB); stop it with: gridtui demo stop"
    )
