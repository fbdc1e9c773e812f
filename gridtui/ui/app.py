"""The Textual app: wires the Backend's snapshots and alerts to screens; holds no logic."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from typing import ClassVar

from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.signal import Signal
from textual.widgets import DataTable
from textual.worker import Worker, WorkerState

from gridtui.backend import Backend
from gridtui.errors import GridError, log_bug, one_line
from gridtui.model.nodes import Alert, ClusterSnapshot
from gridtui.ui.messages import AlertRaised, SnapshotUpdated
from gridtui.ui.screens.help import HelpScreen, Section, key_rows
from gridtui.ui.screens.main import MainScreen
from gridtui.ui.themes import DEFAULT_THEME, load_themes

QUIT_GRACE = 2.0
"""Seconds q waits for the back-end to close before leaving anyway."""
TABLE_KEYS = frozenset({"up", "down", "pageup", "pagedown", "home", "end"})


class GridApp(App[None]):
    """Given its Backend; starts it after the first frame so the console shows at once."""

    CSS_PATH = "gridtui.tcss"
    TITLE = "gridtui"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("question_mark", "help", "Help", key_display="?", tooltip="Show every key"),
        Binding("t", "next_theme", "Theme", tooltip="Next theme (remembered for next time)"),
        Binding("q", "quit", "Quit", tooltip="Leave gridtui"),
    ]

    def __init__(self, backend: Backend, theme: str | None = None) -> None:
        super().__init__()
        self.backend = backend
        self.snapshot: ClusterSnapshot = backend.metrics.snapshot()
        self.snapshot_signal: Signal[ClusterSnapshot] = Signal(self, "snapshot")
        self._unsubscribe: list[Callable[[], None]] = []
        self._startup_notes: list[str] = []
        self._quitting = False
        self.gridtui_themes: list[str] = []
        for loaded in load_themes():
            self.register_theme(loaded)
            self.gridtui_themes.append(loaded.name)
        self.theme = self._choose_theme(theme)

    def _choose_theme(self, requested: str | None) -> str:
        """--theme, then the remembered one, then the cluster file's, then gridtui's default."""
        known = self.available_themes
        if requested:
            if requested in known:
                self.backend.prefs.set("theme", requested)
                return requested
            self._startup_notes.append(
                f"Unknown theme {requested!r}; try one of: {', '.join(sorted(known))}"
            )
        for candidate in (
            self.backend.prefs.get("theme"),
            self.backend.config.ui.theme,
            DEFAULT_THEME,
        ):
            if isinstance(candidate, str) and candidate in known:
                return candidate
        return "textual-dark"

    def get_default_screen(self) -> Screen[None]:
        alerts = self.backend.config.alerts
        hot = min(alerts.cpu_percent, alerts.memory_percent)
        return MainScreen(self.snapshot, warn=max(0.0, hot - 15.0), hot=hot)

    def on_mount(self) -> None:
        hub = self.backend.metrics
        self._unsubscribe.append(hub.subscribe(self._hub_snapshot))
        self._unsubscribe.append(hub.subscribe_alerts(self._hub_alert))
        for note in self._startup_notes:
            self.notify(note, title="Theme", severity="warning")
        self.call_after_refresh(self._start_backend)

    def _hub_snapshot(self, snapshot: ClusterSnapshot) -> None:
        """Called by the hub on this loop; a message keeps the hub free of Textual."""
        self.post_message(SnapshotUpdated(snapshot))

    def _hub_alert(self, alert: Alert) -> None:
        self.post_message(AlertRaised(alert))

    def _start_backend(self) -> None:
        self.run_worker(
            self.backend.start(), name="backend-start", group="backend", exit_on_error=False
        )

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        self.report_worker_failure(event)

    def report_worker_failure(self, event: Worker.StateChanged) -> None:
        """Every worker failure becomes one notification instead of a crash. Screens forward
        their own workers' events here: Worker.StateChanged does not bubble.

        A GridError is the user's to act on: its summary. Anything else is a bug: one line
        naming the log its traceback went to."""
        error = event.worker.error
        if event.state is not WorkerState.ERROR or error is None:
            return
        text = error.summary.splitlines()[0] if isinstance(error, GridError) else one_line(error)
        self.notify(text, title=event.worker.name or "Error", severity="error")

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        """Never markup, whoever asks (screens' notify comes here too): a notification's
        words come from nodes, files and SSH, and a bracket in them must show as it is."""
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=False)

    def on_snapshot_updated(self, message: SnapshotUpdated) -> None:
        self.snapshot = message.snapshot
        self.snapshot_signal.publish(message.snapshot)

    def on_alert_raised(self, message: AlertRaised) -> None:
        alert = message.alert
        severity: SeverityLevel = "warning"
        if alert.severity == "information":
            severity = "information"
        elif alert.severity == "error":
            severity = "error"
        self.notify(alert.message, title=alert.node, severity=severity)

    def watch_theme(self, name: str) -> None:
        if self.is_running and self.backend.prefs.get("theme") != name:
            self.backend.prefs.set("theme", name)

    # -- actions and the palette ----------------------------------------------------------

    def open_detail(self, node: str) -> None:
        # Imported here: plotext costs ~50 ms, which the first frame should not pay.
        from gridtui.ui.screens.node_detail import NodeDetailScreen

        self.push_screen(
            NodeDetailScreen(
                node,
                self.snapshot,
                self.backend.metrics.history,
                self.backend.config.sample_interval,
            )
        )

    def help_sections(self) -> list[Section]:
        from gridtui.ui.screens.cluster_progress import ClusterProgressScreen
        from gridtui.ui.screens.confirm import ConfirmScreen
        from gridtui.ui.screens.node_detail import NodeDetailScreen
        from gridtui.ui.screens.ray_logs import RayLogScreen

        return [
            ("Everywhere", type(self), None),
            ("Everywhere", App, frozenset({"ctrl+q"})),
            ("Nodes", MainScreen, None),
            ("Nodes table", DataTable, TABLE_KEYS),
            ("Node detail", NodeDetailScreen, None),
            ("Ray logs", RayLogScreen, None),
            ("Confirmation", ConfirmScreen, None),
            ("Cluster progress", ClusterProgressScreen, None),
            ("Help", HelpScreen, None),
        ]

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            return
        rows = key_rows(self, self.help_sections())
        palette = self.get_key_display(Binding(self.COMMAND_PALETTE_BINDING, "command_palette"))
        rows.insert(1, ("Everywhere", palette, "Command palette (every action)"))
        self.push_screen(HelpScreen(rows))

    def set_theme(self, name: str) -> None:
        self.theme = name

    def action_next_theme(self) -> None:
        names = self.gridtui_themes + sorted(
            n for n in self.available_themes if n not in self.gridtui_themes and n != "textual-ansi"
        )
        index = names.index(self.theme) if self.theme in names else -1
        self.theme = names[(index + 1) % len(names)]

    async def action_quit(self) -> None:
        """Say so at once, give the back-end a short grace to close its connections, leave.
        A second q leaves without waiting."""
        if self._quitting:
            self.exit(return_code=0)
            return
        self._quitting = True
        self.notify(
            "Closing the node connections and Ray's driver (q again leaves at once)",
            title="Quitting",
            timeout=QUIT_GRACE + 2,
        )
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        # Not wait_for: it would wait out a cancelled stop's own clean-up, unbounded.
        stopping = asyncio.create_task(self.backend.stop(), name="backend-stop")
        await asyncio.wait({stopping}, timeout=QUIT_GRACE)
        if stopping.done() and not stopping.cancelled():
            failure = stopping.exception()
            if failure is not None:  # leaving must never fail: a bug is logged, not shown
                log_bug(failure)
        self.exit(return_code=0)

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        from gridtui.ui.commands import console_commands

        yield from super().get_system_commands(screen)
        yield from console_commands(self, screen)


def make_app(backend: Backend, theme: str | None = None) -> GridApp:
    """The one factory: the console, the screenshot script and the tests all build the app here."""
    return GridApp(backend, theme=theme)
