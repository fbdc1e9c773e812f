"""The console's one alert stream: every service raises its alerts here, the fronts show them."""

from __future__ import annotations

import time
from collections.abc import Callable

from gridtui.model.nodes import Alert
from gridtui.services.publish import EventStream


class AlertStream(EventStream[Alert]):
    """Owned by the Backend and handed to each service that raises alerts."""

    def __init__(self, clock: Callable[[], float] = time.time, history: int = 500) -> None:
        super().__init__(history)
        self._clock = clock

    def raise_alert(self, node: str, kind: str, message: str, severity: str = "warning") -> Alert:
        alert = Alert(self._clock(), node, kind, message, severity)
        self.emit(alert)
        return alert
