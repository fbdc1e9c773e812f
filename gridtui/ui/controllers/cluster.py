"""The main screen's cluster keys: intent -> confirmation -> one back-end call -> one line."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.app import SuspendNotSupported
from textual.worker import Worker, WorkerState

from gridtui.errors import GridError, one_line
from gridtui.model.nodes import NodeState
from gridtui.ui.access import grid_app
from gridtui.ui.intents import Intent
from gridtui.ui.widgets.panes import ClusterIntent

if TYPE_CHECKING:
    from gridtui.backend import Backend, ControlService
    from gridtui.model.operations import Operation
    from gridtui.ui.screens.cluster_progress import StepEvent
    from gridtui.ui.screens.main import MainScreen

GROUP = "cluster"


class ClusterController:
    """Held by the MainScreen, whose bindings call these; its workers belong to the screen,
    so their failures reach the app's one handler through the screen."""

    TAKES: ClassVar[type[Intent]] = ClusterIntent

    def __init__(self, screen: MainScreen) -> None:
        self.screen = screen

    def handle(self, intent: ClusterIntent) -> None:
        if intent.op == "drain":
            self.drain_or_undrain()
        elif intent.op == "logs":
            self.open_logs()
        elif intent.op == "shell":
            self.open_shell()
        elif intent.op == "stop_node":
            self.request("stop", node=True)
        else:
            self.request(intent.op)

    @property
    def backend(self) -> Backend:
        return grid_app(self.screen).backend

    def _busy(self) -> bool:
        return any(
            w.group == GROUP and w.state in (WorkerState.PENDING, WorkerState.RUNNING)
            for w in self.screen.app.workers
        )

    # -- operations ---------------------------------------------------------------------

    def request(self, kind: str, *, node: bool = False) -> None:
        name = self.screen.selected_node() if node else None
        if node and name is None:
            return
        # Here, not at the top: its dataclasses cost the first frame ~5 ms for a later key.
        from gridtui.model.operations import Operation

        self.confirm(Operation(kind, name))

    def confirm(self, op: Operation) -> None:
        """Say what will happen; run it only on yes, and never two at once."""
        if not grid_app(self.screen).ready:
            self.screen.notify("The cluster file is still being read", severity="warning")
            return
        if self._busy():
            self.screen.notify(
                "A cluster operation is still running; wait for it", severity="warning"
            )
            return
        plan = self.backend.cluster_control().plan(op)

        def answered(yes: bool | None) -> None:
            if yes:
                self.run_operation(op)

        from gridtui.ui.screens.confirm import ConfirmScreen  # not needed for the first frame

        self.screen.app.push_screen(
            ConfirmScreen(plan.title, list(plan.lines), plan.verb), answered
        )

    def run_operation(self, op: Operation) -> Worker[None]:
        return self.screen.run_worker(
            self._run(op),
            name=f"cluster {op.kind}",
            group=GROUP,
            exclusive=True,
            exit_on_error=False,
        )

    async def _run(self, op: Operation) -> None:
        """One back-end call; its progress feeds the bars, its end becomes a notification."""
        control = self.backend.cluster_control()
        plan = control.plan(op)
        # Not needed for the first frame: loaded with the first operation.
        from gridtui.ui.screens.cluster_progress import ClusterProgressScreen, ProgressEvent

        progress = ClusterProgressScreen(plan.label, list(plan.nodes), plan.steps)
        await self.screen.app.push_screen(progress)

        def report(event: StepEvent) -> None:
            progress.post_message(ProgressEvent(event))

        try:
            outcome = await control.run(op, report)
        except Exception as exc:  # a bug: logged with its traceback, one line shown
            from gridtui.model.operations import Outcome  # see request()

            outcome = Outcome(False, one_line(exc))
        # Notify first: the user may have closed the progress view while the work went on.
        self.screen.notify(
            outcome.text,
            title="Cluster" if outcome.ok else "Cluster operation failed",
            severity="information" if outcome.ok else "error",
        )
        if progress.is_attached:
            # Queued behind the progress events still on their way: a late "running" must
            # never land on a finished view.
            progress.call_later(progress.finish, outcome.ok, outcome.text)

    # -- drain (a mutating action: asks first) -------------------------------------------

    def drain_or_undrain(self) -> None:
        """`N` on the Nodes pane: drain the selected worker, or undrain a drained one."""
        app = grid_app(self.screen)
        name = self.screen.selected_node()
        control = app.backend.control if app.ready else None
        if name is None or control is None:
            return
        self.screen.run_worker(
            self._drain(control, name), name="drain", group=GROUP, exit_on_error=False
        )

    async def _drain(self, control: ControlService, name: str) -> None:
        from gridtui.ui.screens.confirm import ConfirmScreen  # not needed for the first frame

        drained = name in await control.drained()
        if drained:
            title, verb = f"Undrain {name}?", "Undrain"
            lines = [
                "Lift the fence gridtui holds on it.",
                "Ray's own drain cannot be undone: the node takes no new work until Ray",
                "restarts on it (x, then u).",
            ]
        else:
            title, verb = f"Drain {name}?", "Drain"
            lines = [
                "Fence its free CPU/GPU, move its stored objects to other nodes,",
                "then Ray's own drain: nothing new runs there until Ray restarts on it.",
            ]
        if not await self.screen.app.push_screen_wait(ConfirmScreen(title, lines, verb)):
            return
        if drained:
            done = await control.node_undrain(name)
            self.screen.notify(f"Undrained {name}: fence {done['fence']}", title="Drain")
        else:
            done = await control.node_drain(name)
            self.screen.notify(
                f"Drained {name}: Ray {done['ray']}; objects {done['spill']}", title="Drain"
            )

    # -- logs and shell -----------------------------------------------------------------

    def open_logs(self) -> None:
        from gridtui.ui.screens.ray_logs import RayLogScreen

        node = self.screen.selected_node()
        if node is None:
            return
        control = self.backend.cluster_control()

        async def fetch() -> dict[str, list[str]]:
            return await control.logs(node)

        self.screen.app.push_screen(RayLogScreen(node, fetch, waiting_for=self._who(node)))

    def _who(self, node: str) -> str:
        """What a read from the node waits for, in words: its host, and its state when the
        console already knows it is not answering."""
        status = grid_app(self.screen).snapshot.node(node)
        if status is None:
            return f"{node} to answer"
        who = f"{node} ({status.host}) to answer"
        if status.state is not NodeState.UP:
            who += f"; it is {status.state.value}" + (f": {status.reason}" if status.reason else "")
        return who

    def open_shell(self) -> None:
        """Suspend the console, run the shell in this terminal, resume when it exits."""
        name = self.screen.selected_node()
        if name is None:
            return
        control = self.backend.cluster_control()
        try:
            argv = control.shell_argv(name)
        except GridError as exc:
            self.screen.notify(exc.summary, title="Shell", severity="error")
            return
        try:
            with self.screen.app.suspend():
                ended = control.run_shell(name, argv)
        except SuspendNotSupported:
            self.screen.notify("This terminal cannot suspend the console", severity="error")
            return
        except OSError as exc:
            self.screen.notify(
                f"cannot run {argv[0]}: {exc.strerror or exc}", title="Shell", severity="error"
            )
            return
        if not ended.ok:
            why = f": {ended.message}" if ended.message else ""
            self.screen.notify(
                f"{argv[0]} exited {ended.code}{why}", title=f"Shell on {name}", severity="warning"
            )
