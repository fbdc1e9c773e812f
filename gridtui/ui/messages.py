"""App-wide messages: what the back-end's callbacks turn into on Textual's side."""

from __future__ import annotations

from textual.message import Message

from gridtui.model.nodes import Alert, ClusterSnapshot
from gridtui.model.objects import MemorySnapshot
from gridtui.model.offload_view import OffloadSnapshot
from gridtui.model.ray import RayClusterView
from gridtui.model.reservations import ReservationsSnapshot
from gridtui.model.work import WorkSnapshot


class SnapshotUpdated(Message):
    """A new ClusterSnapshot; only the newest matters, so queued ones are replaced."""

    def __init__(self, snapshot: ClusterSnapshot) -> None:
        super().__init__()
        self.snapshot = snapshot

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, SnapshotUpdated)


class RayViewUpdated(Message):
    """A new RayClusterView; only the newest matters, so queued ones are replaced."""

    def __init__(self, view: RayClusterView) -> None:
        super().__init__()
        self.view = view

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, RayViewUpdated)


class ReservationsUpdated(Message):
    """A new ReservationsSnapshot from the controller; only the newest matters."""

    def __init__(self, snapshot: ReservationsSnapshot) -> None:
        super().__init__()
        self.snapshot = snapshot

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, ReservationsUpdated)


class OffloadUpdated(Message):
    """A new OffloadSnapshot from the engine; only the newest matters."""

    def __init__(self, snapshot: OffloadSnapshot) -> None:
        super().__init__()
        self.snapshot = snapshot

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, OffloadUpdated)


class MemoryUpdated(Message):
    """A new MemorySnapshot (stored objects, per-node use); only the newest matters."""

    def __init__(self, snapshot: MemorySnapshot) -> None:
        super().__init__()
        self.snapshot = snapshot

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, MemoryUpdated)


class WorkUpdated(Message):
    """A new WorkSnapshot (jobs, actors and tasks); only the newest matters."""

    def __init__(self, snapshot: WorkSnapshot) -> None:
        super().__init__()
        self.snapshot = snapshot

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, WorkUpdated)


class AlertRaised(Message):
    """A service raised an alert (node down, back, pressure, the demo's start); every one
    is shown."""

    def __init__(self, alert: Alert) -> None:
        super().__init__()
        self.alert = alert
