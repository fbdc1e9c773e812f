"""App-wide messages: what the back-end's callbacks turn into on Textual's side."""

from __future__ import annotations

from textual.message import Message

from gridtui.model.nodes import Alert, ClusterSnapshot


class SnapshotUpdated(Message):
    """A new ClusterSnapshot; only the newest matters, so queued ones are replaced."""

    def __init__(self, snapshot: ClusterSnapshot) -> None:
        super().__init__()
        self.snapshot = snapshot

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, SnapshotUpdated)


class AlertRaised(Message):
    """The hub raised an alert (node down, back, pressure); every one is shown."""

    def __init__(self, alert: Alert) -> None:
        super().__init__()
        self.alert = alert
