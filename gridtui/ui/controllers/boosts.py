"""The boost keys: form or quick key -> one ControlService call in a worker -> one line."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, ClassVar

from textual.worker import Worker

from gridtui.model.reservations import Reservation, format_amount
from gridtui.ui.access import grid_app
from gridtui.ui.intents import Intent
from gridtui.ui.widgets.boosts_pane import BoostIntent, BoostsPane

if TYPE_CHECKING:
    from gridtui.backend import ControlService
    from gridtui.ui.screens.boost_form import FormRequest
    from gridtui.ui.screens.main import MainScreen

GROUP = "boosts"
QUICK = {"cpu": "1", "gpu": "1", "memory": "1GiB"}
"""What each quick key (+, g, m) adds to the selected node."""


class BoostsController:
    """Held by the MainScreen; its workers belong to the screen, so their failures reach
    the app's one handler (a one-line notification) through the screen."""

    TAKES: ClassVar[type[Intent]] = BoostIntent

    def __init__(self, screen: MainScreen) -> None:
        self.screen = screen

    def handle(self, intent: BoostIntent) -> None:
        if intent.op == "form":
            self.open_boost_form()
        elif intent.op == "quick":
            self.quick_boost(intent.rtype)
        elif intent.op == "release_newest":
            self.release_newest()
        elif intent.op == "share":
            self.open_share_form()
        else:
            self.release_selected(self.screen.query_one(BoostsPane).current)

    def _control(self) -> ControlService | None:
        app = grid_app(self.screen)
        control = app.backend.control if app.ready else None
        if control is None:
            self.screen.notify("Ray is not connected yet: no boosts", severity="warning")
        return control

    def _run(self, work: Coroutine[Any, Any, None], name: str) -> Worker[None]:
        return self.screen.run_worker(work, name=name, group=GROUP, exit_on_error=False)

    def _free(self, node: str) -> dict[str, float] | None:
        info = grid_app(self.screen).ray_view.nodes.get(node)
        if info is None or not info.alive:
            return None
        return {
            "cpu": info.cpu_available,
            "gpu": info.gpu_available,
            "memory": info.memory_available,
        }

    # -- boosts on the selected node -------------------------------------------------------

    def quick_boost(self, rtype: str) -> None:
        """One more CPU, GPU or GiB on the selected node, at once."""
        node = self.screen.selected_node()
        control = self._control() if node is not None else None
        if node is None or control is None:
            return
        from gridtui.ui.screens.boost_form import FormRequest  # the forms load on first use

        self._run(self._boost(control, node, FormRequest(rtype, QUICK[rtype], None)), "Boost")

    def open_boost_form(self, rtype: str = "cpu") -> None:
        node = self.screen.selected_node()
        control = self._control() if node is not None else None
        if node is None or control is None:
            return
        backend = grid_app(self.screen).backend

        def submitted(request: FormRequest | None) -> None:
            if request is not None:
                self._run(self._boost(control, node, request), "Boost")

        from gridtui.ui.screens.boost_form import BoostForm  # not needed for the first frame

        form = BoostForm(node, self._free(node), backend.check_reservation, rtype)
        self.screen.app.push_screen(form, submitted)

    async def _boost(self, control: ControlService, node: str, request: FormRequest) -> None:
        self.screen.notify(
            f"Asking for {request.amount} {request.type} on {node}…", title="Boost", timeout=2
        )
        # Checked where it enters the services (the form's check only spoke as it was typed).
        checked = grid_app(self.screen).backend.check_reservation(
            request.type, request.amount, request.ttl
        )
        r = await control.boost(node, checked, waiting=self._waiting("Boost"))
        self.screen.notify(f"{describe(r)} is active", title="Boost")

    def _waiting(self, title: str) -> Callable[[Reservation], None]:
        """A request Ray keeps waiting says why, once per reason."""
        return lambda r: self.screen.notify(
            f"{describe(r)} is pending: {r.waiting}", title=title, severity="warning"
        )

    def release_newest(self) -> None:
        """`-`: the selected node's newest boost goes (no confirmation: `+` undone)."""
        node = self.screen.selected_node()
        if node is None:
            return
        mine = [
            r
            for r in grid_app(self.screen).reservations.for_node(node)
            if r.kind == "boost" and r.held
        ]
        if not mine:
            self.screen.notify(f"No boost on {node} to release", severity="warning")
            return
        control = self._control()
        if control is not None:
            self._run(self._release(control, mine[0]), "Release")

    async def _release(self, control: ControlService, r: Reservation) -> None:
        result = await control.release(r.id)
        if result.already:
            self.screen.notify(f"{describe(r)} was already released", title="Release")
        else:
            self.screen.notify(f"Released {describe(r)}", title="Release")

    # -- the Boosts pane and sharing -------------------------------------------------------

    def release_selected(self, r: Reservation | None) -> None:
        """`r` on the Boosts pane: say what goes, release it on yes."""
        if r is None:
            self.screen.notify("No reservation selected", severity="warning")
            return
        control = self._control()
        if control is None:
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self._run(self._release(control, r), "Release")

        lines = [
            f"{describe(r)}, {r.state}.",
            "Ray removes its placement group: work running inside it loses the reservation.",
        ]
        from gridtui.ui.screens.confirm import ConfirmScreen  # not needed for the first frame

        self.screen.app.push_screen(
            ConfirmScreen(f"Release {r.kind} {r.id}?", lines, "Release"), answered
        )

    def open_share_form(self) -> None:
        control = self._control()
        if control is None:
            return
        backend = grid_app(self.screen).backend
        strategies, default = backend.strategies()

        def submitted(request: FormRequest | None) -> None:
            if request is not None:
                self._run(self._share(control, request), "Share")

        from gridtui.ui.screens.boost_form import ShareForm  # not needed for the first frame

        form = ShareForm(strategies, default, backend.check_reservation, control.plan)
        self.screen.app.push_screen(form, submitted)

    async def _share(self, control: ControlService, request: FormRequest) -> None:
        backend = grid_app(self.screen).backend
        checked = backend.check_reservation(request.type, request.amount, request.ttl)
        strategy = backend.check_strategy_name(request.strategy)
        r = await control.share(checked, strategy, waiting=self._waiting("Share"))
        self.screen.notify(f"{describe(r)} is active", title="Share")


def describe(r: Reservation) -> str:
    """`boost 3f2a (2 CPU on worker-1)`: how notifications name a reservation."""
    return f"{r.kind} {r.id} ({format_amount(r.type, r.amount)} on {r.node})"
