"""The Textual app: bridges the Backend's feeds to screens and starts it; holds no logic."""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, ClassVar

from textual.actions import ActionParseResult
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.dom import DOMNode
from textual.notifications import SeverityLevel
from textual.reactive import reactive
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from gridtui.errors import GridError, log_bug, one_line
from gridtui.feeds import ALERTS, MEMORY, NODES, OFFLOAD, RAY, RESERVATIONS, WORK, Feeds
from gridtui.model.nodes import Alert, ClusterSnapshot
from gridtui.model.objects import MemorySnapshot
from gridtui.model.offload_view import OffloadSnapshot
from gridtui.model.ray import RayClusterView
from gridtui.model.reservations import ReservationsSnapshot
from gridtui.model.work import WorkSnapshot
from gridtui.prefs import Prefs
from gridtui.ui.bridge import Bridge, FeedUpdated, follow, latest
from gridtui.ui.readonly import ReadOnlyAware, changes_cluster, refusal
from gridtui.ui.screens.main import MainScreen
from gridtui.ui.themes import choose_theme, load_themes

if TYPE_CHECKING:
    # Only for types: the back-end's modules (pydantic among them) load after the first frame.
    from gridtui.backend import Backend

WORK_TOOLTIP = "Open the Work view (jobs, actors and tasks by node; logs, stop, submit)"
QUIT_GRACE = 2.0
HEAP_SETTLES = 10.0
"""Seconds after the back-end starts when the console's heap is frozen (gc.freeze)."""
"""Seconds q waits for the back-end to close before leaving anyway."""


class GridApp(ReadOnlyAware, App[None]):
    """Given its Backend, or a `load` that builds it: then the first frame shows at once
    and the cluster file is read and checked in a thread right after it. Either way the
    Backend starts after the first frame.

    The Backend's feeds reach the panes through one bridge (ui/bridge.py): each pane
    follows the feeds it shows. `after_first_frame` runs once that frame is drawn (the
    console turns the garbage collector back on there)."""

    CSS_PATH = "gridtui.tcss"
    TITLE = "gridtui"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("question_mark", "help", "Help", key_display="?", tooltip="Show every key"),
        Binding("t", "next_theme", "Theme", tooltip="Next theme (remembered for next time)"),
        Binding("W", "open_work", "Work", show=False, tooltip=WORK_TOOLTIP),
        Binding("q", "quit", "Quit", tooltip="Leave gridtui"),
    ]

    read_only: reactive[bool] = reactive(False, init=False)
    """`--read-only` or the file's `ui.read_only`: every key that changes the cluster is
    refused (ui/readonly.py). Only ever turned on: the file is read after the first frame."""

    def __init__(
        self,
        backend: Backend | None = None,
        theme: str | None = None,
        *,
        load: Callable[[], Backend] | None = None,
        loading: str = "",
        prefs: Prefs | None = None,
        read_only: bool = False,
        after_first_frame: Callable[[], None] | None = None,
        view: str = "",
    ) -> None:
        super().__init__()
        self._after_first_frame = after_first_frame
        self.set_reactive(
            GridApp.read_only,
            read_only or (backend is not None and backend.config.ui.read_only),
        )
        self.start_view = view
        """`offload`: open straight on the Offload view (`gridtui offload watch`)."""
        if (backend is None) == (load is None):
            raise ValueError("give the app a backend or a load, not both")
        self._backend = backend
        self._load = load
        self.load_error: BaseException | None = None
        """Why the cluster file could not be used: the console reports it after the app."""
        self.prefs = backend.prefs if backend is not None else (prefs or Prefs())
        self._requested_theme = theme
        self._config_theme = False
        self.bridge = Bridge(self, backend.feeds if backend is not None else standin(loading))
        """The Backend's feeds as Textual sees them: until the file is read, a stand-in's."""
        self._startup_notes: list[str] = []
        self._quitting = False
        self.gridtui_themes: list[str] = []
        for loaded in load_themes():
            self.register_theme(loaded)
            self.gridtui_themes.append(loaded.name)
        self._set_first_theme(self._choose_theme(theme))

    def _set_first_theme(self, name: str) -> None:
        """Before the app runs, without the watcher: setting `theme` queues a second parse of
        every stylesheet and a restyle of every widget (~40 ms before the first frame), where
        new variables before the first parse cost nothing. Textual's own filter that maps ANSI
        colours follows light or dark and ANSI themes, so only a theme that would change it
        goes the usual way."""
        start, chosen = self.current_theme, self.available_themes[name]
        if (chosen.dark, chosen.ansi) != (start.dark, start.ansi):
            self.theme = name
            return
        self.set_reactive(App.theme, name)
        self.stylesheet.set_variables(self.get_css_variables())
        self.set_class(True, f"-theme-{name}", update=False)

    def _choose_theme(self, requested: str | None) -> str:
        config_theme = self._backend.config.ui.theme if self._backend is not None else None
        return choose_theme(
            self.available_themes, requested, self.prefs, config_theme, self._startup_notes
        )

    @property
    def backend(self) -> Backend:
        if self._backend is None:
            raise RuntimeError("the back-end is not built yet (check `ready` first)")
        return self._backend

    @property
    def ready(self) -> bool:
        """The cluster file was read and the back-end built."""
        return self._backend is not None

    def _thresholds(self) -> tuple[float, float]:
        hot = 90.0  # the file's default, until the file is read
        if self._backend is not None:
            alerts = self._backend.config.alerts
            hot = min(alerts.cpu_percent, alerts.memory_percent)
        return max(0.0, hot - 15.0), hot

    # The newest value of each feed as delivered here (panes `follow` what they show).

    @property
    def snapshot(self) -> ClusterSnapshot:
        return latest(self, NODES)

    @property
    def ray_view(self) -> RayClusterView:
        return latest(self, RAY)

    @property
    def reservations(self) -> ReservationsSnapshot:
        return latest(self, RESERVATIONS)

    @property
    def offload(self) -> OffloadSnapshot:
        return latest(self, OFFLOAD)

    @property
    def memory(self) -> MemorySnapshot:
        return latest(self, MEMORY)

    @property
    def work(self) -> WorkSnapshot:
        return latest(self, WORK)

    def get_default_screen(self) -> Screen[None]:
        warn, hot = self._thresholds()
        return MainScreen(self.snapshot, warn=warn, hot=hot, loading=self._backend is None)

    def on_mount(self) -> None:
        for note in self._startup_notes:
            self.notify(note, title="Theme", severity="warning")
        follow(self, ALERTS, self._alert, now=False)
        if self._backend is not None:
            self.call_after_refresh(self._start_backend)
        else:
            # After the frame after the first: the one where the panes and the footer fill
            # in. Started sooner, the loading thread's imports took the interpreter from it
            # for up to a second.
            self.call_after_refresh(self.call_after_refresh, self._begin_loading)
        if self._after_first_frame is not None:
            self.call_after_refresh(self._after_first_frame)
        if self.start_view == "offload":
            self.call_after_refresh(self.open_offload)

    # -- reading the cluster file after the first frame -------------------------------------

    def _begin_loading(self) -> None:
        self.run_worker(self._load_in_thread, name="load", thread=True, exit_on_error=False)

    def _load_in_thread(self) -> None:
        """Read and check the cluster file off the event loop: keys keep working meanwhile."""
        assert self._load is not None
        try:
            backend = self._load()
        except Exception as exc:
            self.call_from_thread(self._load_failed, exc)
        else:
            self.call_from_thread(self._loaded, backend)

    def _load_failed(self, exc: BaseException) -> None:
        """A bad file ends the console; the CLI then prints the file's errors as always."""
        self.load_error = exc
        self.exit(return_code=exc.exit_code if isinstance(exc, GridError) else 1)

    def _loaded(self, backend: Backend) -> None:
        self._backend = backend
        self.prefs = backend.prefs
        if backend.config.ui.read_only:
            self.read_only = True
        if not self._requested_theme and not self.prefs.get("theme"):
            theme = self._choose_theme(None)
            if theme != self.theme:
                self._config_theme = True  # the file's choice is not remembered as the user's
                self.theme = theme
                self._config_theme = False
        warn, hot = self._thresholds()
        for screen in self.screen_stack:
            if isinstance(screen, MainScreen):
                self.call_next(screen.loaded, warn=warn, hot=hot)
        self.bridge.attach(backend.feeds)
        self._start_backend()

    def _start_backend(self) -> None:
        self.run_worker(
            self.backend.start(), name="backend-start", group="backend", exit_on_error=False
        )
        self.set_timer(HEAP_SETTLES, self._freeze_heap)

    @staticmethod
    def _freeze_heap() -> None:
        """The dashboard is built and its caches warm by now: what exists lives as long as
        the console, so the collector stops walking it. A full collection of it stalled the
        loop for 200 ms in the middle of a transfer (bench/memory_console_stall.py)."""
        gc.freeze()

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

    def on_feed_updated(self, message: FeedUpdated) -> None:
        message.route.deliver(message.value)

    def _alert(self, alert: Alert) -> None:
        severity: SeverityLevel = "warning"
        if alert.severity == "information":
            severity = "information"
        elif alert.severity == "error":
            severity = "error"
        self.notify(alert.message, title=alert.node, severity=severity)

    def watch_read_only(self) -> None:
        self.refresh_bindings()

    async def run_action(
        self,
        action: str | ActionParseResult,
        default_namespace: DOMNode | None = None,
        namespaces: Mapping[str, DOMNode] | None = None,
    ) -> bool:
        """The read-only console's one gate: keys, footer clicks and the palette all come
        here, so an action that changes the cluster is refused whatever asked for it."""
        if self.read_only and changes_cluster(action):
            self.notify(refusal(self, action), title="Read-only", severity="warning")
            return True  # handled: the key goes nowhere else
        return await super().run_action(action, default_namespace, namespaces)

    def watch_theme(self, name: str) -> None:
        if self.is_running and not self._config_theme and self.prefs.get("theme") != name:
            self.prefs.set("theme", name)

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

    def open_offload(self) -> None:
        from gridtui.ui.screens.offload import OffloadScreen

        if not isinstance(self.screen, OffloadScreen):
            self.push_screen(OffloadScreen())

    def action_open_work(self) -> None:
        from gridtui.ui.screens.work import WorkScreen  # the Work view loads on its key

        if not isinstance(self.screen, WorkScreen):
            self.push_screen(WorkScreen())

    def help_rows(self) -> list[tuple[str, str, str]]:
        """(where, key, what) for the help and docs/keys.md."""
        from gridtui.ui.keys import help_rows  # loaded with the help, after the first frame

        return help_rows(self)

    def action_help(self) -> None:
        from gridtui.ui.screens.help import HelpScreen  # not needed for the first frame

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.help_rows()))

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
        if self._quitting or self._backend is None:
            self.exit(return_code=0)
            return
        self._quitting = True
        self.notify(
            "Closing the node connections and Ray's driver (q again leaves at once)",
            title="Quitting",
            timeout=QUIT_GRACE + 2,
        )
        self.bridge.close()
        # Not wait_for: it would wait out a cancelled stop's own clean-up, unbounded.
        stopping = asyncio.create_task(self.backend.stop(), name="backend-stop")
        await asyncio.wait({stopping}, timeout=QUIT_GRACE)
        if stopping.done() and not stopping.cancelled():
            failure = stopping.exception()
            if failure is not None:  # leaving must never fail: a bug is logged, not shown
                log_bug(failure)
        self.exit(return_code=0)

    def on_unmount(self) -> None:
        """Left without q (Ctrl+C, a test's end): Ray's driver process goes with the app."""
        if self._backend is not None:
            self._backend.release_driver()

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        from gridtui.ui.commands import console_commands

        yield from super().get_system_commands(screen)
        yield from console_commands(self, screen)


def standin(loading: str) -> Feeds:
    """The feeds before the cluster file is read: what the first frame shows."""
    name = loading or "reading the cluster file…"
    return Feeds.standin(ClusterSnapshot(name=name, time=time.time(), nodes=()))


def make_app(
    backend: Backend, theme: str | None = None, *, read_only: bool = False, view: str = ""
) -> GridApp:
    """The one factory: the console, the screenshot script and the tests all build the app here."""
    return GridApp(backend, theme=theme, read_only=read_only, view=view)
