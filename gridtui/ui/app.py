"""The Textual app: wires the Backend's snapshots and alerts to screens; holds no logic."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterable
from typing import ClassVar

from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.signal import Signal
from textual.worker import Worker, WorkerState

from gridtui.backend import Backend
from gridtui.model.nodes import Alert, ClusterSnapshot
from gridtui.model.ray import RayClusterView
from gridtui.ui.messages import AlertRaised, RayViewUpdated, SnapshotUpdated
from gridtui.ui.screens.help import HelpScreen, Section, key_rows
from gridtui.ui.screens.main import MainScreen
from gridtui.ui.themes import DEFAULT_THEME, load_themes
from gridtui.ui.widgets.nodes_table import NodesTable


class GridApp(App[None]):
    """Given its Backend; starts it after the first frame so the console shows at once.

    Each service's published state arrives as its own message and goes out on its own
    signal (ui/feeds.py): panes subscribe to what they show."""

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
        self.ray_view: RayClusterView = backend.ray_view.view()
        self.ray_signal: Signal[RayClusterView] = Signal(self, "ray")
        self._unsubscribe: list[Callable[[], None]] = []
        self._startup_notes: list[str] = []
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
        backend = self.backend
        self._unsubscribe += [
            backend.metrics.subscribe(self._node_snapshot),
            backend.ray_view.subscribe(self._ray_view),
            backend.alerts.subscribe(self._alert),
        ]
        for note in self._startup_notes:
            self.notify(note, title="Theme", severity="warning")
        self.call_after_refresh(self._start_backend)

    # The services call these on this loop; a message keeps them free of Textual.

    def _node_snapshot(self, snapshot: ClusterSnapshot) -> None:
        self.post_message(SnapshotUpdated(snapshot))

    def _ray_view(self, view: RayClusterView) -> None:
        self.post_message(RayViewUpdated(view))

    def _alert(self, alert: Alert) -> None:
        self.post_message(AlertRaised(alert))

    def _start_backend(self) -> None:
        self.run_worker(
            self.backend.start(), name="backend-start", group="backend", exit_on_error=False
        )

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        self.report_worker_failure(event)

    def report_worker_failure(self, event: Worker.StateChanged) -> None:
        """Every worker failure becomes a notification instead of a crash. Screens forward
        their own workers' events here: Worker.StateChanged does not bubble."""
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            error = event.worker.error
            self.notify(f"{event.worker.name}: {error}", title="Error", severity="error")

    def on_snapshot_updated(self, message: SnapshotUpdated) -> None:
        self.snapshot = message.snapshot
        self.snapshot_signal.publish(message.snapshot)

    def on_ray_view_updated(self, message: RayViewUpdated) -> None:
        self.ray_view = message.view
        self.ray_signal.publish(message.view)

    def on_alert_raised(self, message: AlertRaised) -> None:
        alert = message.alert
        severity = (
            alert.severity if alert.severity in ("information", "warning", "error") else "warning"
        )
        self.notify(alert.message, title=alert.node, severity=severity)  # type: ignore[arg-type]

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
            ("Nodes table", NodesTable, None),
            ("Node detail", NodeDetailScreen, None),
            ("Ray logs", RayLogScreen, None),
            ("Confirmation", ConfirmScreen, None),
            ("Cluster progress", ClusterProgressScreen, None),
            ("Help", HelpScreen, None),
        ]

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            return
        rows = key_rows(self, self.help_sections())  # type: ignore[arg-type]
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
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        with contextlib.suppress(Exception):  # leaving must never hang or fail
            await asyncio.wait_for(self.backend.stop(), 5)
        self.exit(return_code=0)

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        from gridtui.ui.commands import console_commands

        yield from super().get_system_commands(screen)
        yield from console_commands(self, screen)


def make_app(backend: Backend, theme: str | None = None) -> GridApp:
    """The one factory: the console, the screenshot script and the tests all build the app here."""
    return GridApp(backend, theme=theme)
