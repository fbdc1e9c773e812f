"""The boost and sharing forms: typed from the keyboard, checked live, submitted by enter."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar, Protocol

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.widgets import Input, Label, Static

from gridtui.errors import GridError
from gridtui.model.reservations import TYPES, format_amount

EPSILON = 1e-9


class Checked(Protocol):
    """What the back-end's parse of a form gives back (services.control.Request)."""

    @property
    def type(self) -> str: ...
    @property
    def amount(self) -> float: ...


class PlanLike(Protocol):
    """What a strategy would do (policy.scheduler.Placement), as the form shows it."""

    @property
    def bundles(self) -> tuple[tuple[str, float], ...]: ...
    @property
    def reason(self) -> str: ...


Check = Callable[[str, str, str | None], Checked]


@dataclass(frozen=True)
class FormRequest:
    """What the user asked for, as typed (the service parses it again)."""

    type: str
    amount: str
    ttl: str | None
    strategy: str = ""


class RequestForm(ModalScreen[FormRequest | None]):
    """Shared by both forms: fields, a live error line, enter submits, escape cancels."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", tooltip="Close the form: nothing is requested"),
    ]

    def __init__(self, check: Check) -> None:
        super().__init__()
        self.check = check
        self.error = ""

    def field(self, name: str) -> str:
        return self.query_one(f"#form-{name}", Input).value.strip()

    def row(
        self, label: str, name: str, value: str, hint: str = "", suggest: Sequence[str] = ()
    ) -> Horizontal:
        suggester = SuggestFromList(suggest) if suggest else None
        return Horizontal(
            Label(label, classes="form-label"),
            Input(value, id=f"form-{name}", classes="form-input", suggester=suggester),
            Label(hint, id=f"form-{name}-hint", classes="form-hint", markup=False),
            classes="form-row",
        )

    def validate_now(self) -> Checked | None:
        """Check every field; the first problem shows under them (and blocks enter)."""
        try:
            checked = self.check(self.field("type"), self.field("amount"), self.field("ttl"))
            self.error = self.more_checks(checked)
        except GridError as exc:
            checked, self.error = None, exc.summary.splitlines()[0]
        error = self.query_one("#form-error", Static)
        error.update(self.error)
        error.set_class(bool(self.error), "-error")
        return None if self.error else checked

    def more_checks(self, checked: Checked) -> str:
        return ""

    def on_mount(self) -> None:
        self.validate_now()
        self.query_one("#form-amount", Input).focus()

    @on(Input.Changed)
    def _changed(self) -> None:
        self.validate_now()

    @on(Input.Submitted)
    def _submitted(self) -> None:
        if self.validate_now() is None:
            self.app.bell()
            return
        self.dismiss(self.request())

    def request(self) -> FormRequest:
        return FormRequest(
            self.field("type").lower(), self.field("amount"), self.field("ttl") or None
        )

    def action_cancel(self) -> None:
        self.dismiss(None)


TYPE_HINT = "cpu, gpu or memory"
HELP = "enter requests · escape cancels · TTL like 30m, 2h (empty: until released)"


class BoostForm(RequestForm):
    """A boost on one node: what that node has free (Ray's view) is shown and enforced."""

    def __init__(
        self, node: str, free: Mapping[str, float] | None, check: Check, rtype: str = "cpu"
    ) -> None:
        super().__init__(check)
        self.node, self.free, self.rtype = node, free, rtype

    def compose(self) -> ComposeResult:
        with Vertical(id="form-box"):
            yield Label(f"Boost {self.node}", id="form-title", markup=False)
            yield self.row("Type", "type", self.rtype, TYPE_HINT, suggest=TYPES)
            yield self.row("Amount", "amount", "1" if self.rtype != "memory" else "1GiB")
            yield self.row("TTL", "ttl", "", "empty: until released")
            yield Static("", id="form-error", markup=False)
            yield Label(HELP, id="form-help", markup=False)

    def _free_text(self, rtype: str) -> str:
        if self.free is None:
            return "free: unknown (Ray not connected)"
        return f"free on {self.node}: {format_amount(rtype, self.free.get(rtype, 0.0))}"

    def validate_now(self) -> Checked | None:
        rtype = self.field("type").lower()
        hint = self.query_one("#form-amount-hint", Label)
        hint.update(self._free_text(rtype) if rtype in TYPES else "")
        return super().validate_now()

    def more_checks(self, checked: Checked) -> str:
        if self.free is None:
            return ""
        free = self.free.get(checked.type, 0.0)
        if checked.amount > free + EPSILON:
            return (
                f"more than {self.node} has free: {format_amount(checked.type, free)} free, "
                f"asked {format_amount(checked.type, checked.amount)}"
            )
        return ""


class ShareForm(RequestForm):
    """A shared allocation: the nodes the strategy would pick show before enter."""

    def __init__(
        self,
        strategies: tuple[str, ...],
        strategy: str,
        check: Check,
        plan: Callable[[str, str, str], Awaitable[PlanLike]],
    ) -> None:
        super().__init__(check)
        self.strategies, self.strategy, self.plan = strategies, strategy, plan

    def compose(self) -> ComposeResult:
        with Vertical(id="form-box"):
            yield Label("Share an amount over the cluster", id="form-title")
            yield self.row("Type", "type", "cpu", TYPE_HINT, suggest=TYPES)
            yield self.row("Amount", "amount", "1")
            yield self.row(
                "Strategy",
                "strategy",
                self.strategy,
                ", ".join(self.strategies),
                suggest=self.strategies,
            )
            yield self.row("TTL", "ttl", "", "empty: until released")
            yield Static("", id="form-plan", markup=False)
            yield Static("", id="form-error", markup=False)
            yield Label(HELP, id="form-help", markup=False)

    def more_checks(self, checked: Checked) -> str:
        strategy = self.field("strategy")
        if strategy not in self.strategies:
            return f"unknown strategy {strategy!r} (one of: {', '.join(self.strategies)})"
        self.preview(checked.type, self.field("amount"), strategy)
        return ""

    def validate_now(self) -> Checked | None:
        checked = super().validate_now()
        if checked is None:
            self.query_one("#form-plan", Static).update("")
        return checked

    def request(self) -> FormRequest:
        base = super().request()
        return FormRequest(base.type, base.amount, base.ttl, self.field("strategy"))

    @work(exclusive=True, group="plan", exit_on_error=False)
    async def preview(self, rtype: str, amount: str, strategy: str) -> None:
        """Ask the scheduler what it would pick now (reserving nothing)."""
        shown = self.query_one("#form-plan", Static)
        shown.update("asking the scheduler…")
        try:
            placement = await self.plan(rtype, amount, strategy)
        except GridError as exc:
            shown.update(f"would not fit: {exc.summary.splitlines()[0]}")
            return
        except Exception as exc:  # Ray's own errors: shown, the form stays usable
            shown.update(f"no plan: {exc}")
            return
        picks = ", ".join(f"{n} {format_amount(rtype, a)}" for n, a in placement.bundles)
        shown.update(f"would use: {picks}\n{placement.reason}")
