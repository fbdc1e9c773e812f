"""The Boosts pane's rows, in their own module: DataTable loads after the first frame."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.widgets import DataTable


class ReservationTable(DataTable[Text]):
    """The rows; a state's colour is a component class, so themes restyle it."""

    COMPONENT_CLASSES: ClassVar[set[str]] = DataTable.COMPONENT_CLASSES | {
        "reservation-table--pending",
        "reservation-table--active",
        "reservation-table--expiring",
        "reservation-table--lost",
        "reservation-table--released",
    }
