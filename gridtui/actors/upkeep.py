"""What the controller's loop does to one reservation: a pure decision, tested on its own."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from gridtui.model.reservations import EXPIRING_WINDOW, Reservation

# A group still pending this long after its request (its waiter gone with an old
# controller) is withdrawn.
PENDING_GRACE = 120.0


@dataclass(frozen=True)
class Action:
    """keep | activate | warn (entering `expiring`) | expire | lose | vanish | withdraw."""

    kind: str
    note: str = ""


def decide(
    record: Reservation,
    group_state: str | None,
    dead_nodes: Collection[str],
    now: float,
    warned: bool = False,
) -> Action:
    """`group_state` is Ray's state of its placement group (None: no group in Ray's
    table); `dead_nodes` the names of its bundles' nodes Ray calls dead."""
    if record.state == "lost":
        if record.expires is not None and now >= record.expires:
            return Action("expire", "expired (lost earlier)")
        return Action("keep")
    if group_state is None:
        return Action("vanish", "its placement group was removed outside gridtui")
    if dead_nodes:
        return Action("lose", f"{', '.join(sorted(dead_nodes))} died")
    if group_state == "RESCHEDULING":
        return Action("lose", "Ray is rescheduling it: a node of it died")
    if record.expires is not None and now >= record.expires:
        return Action("expire", "expired")
    if record.state == "pending":
        if group_state == "CREATED":
            return Action("activate")
        if now - record.created > PENDING_GRACE:
            return Action("withdraw", f"not placed within {PENDING_GRACE:.0f}s")
        return Action("keep")
    if record.expires is not None and record.expires - now <= EXPIRING_WINDOW and not warned:
        return Action("warn", "expires within a minute")
    return Action("keep")
