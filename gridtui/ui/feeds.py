"""What panes read from the app: the services' published state, typed without importing it."""

from __future__ import annotations

from typing import Any, Protocol, cast

from textual.app import App
from textual.signal import Signal

from gridtui.model.nodes import ClusterSnapshot
from gridtui.model.objects import MemorySnapshot
from gridtui.model.offload_view import OffloadSnapshot
from gridtui.model.ray import RayClusterView
from gridtui.model.reservations import ReservationsSnapshot
from gridtui.model.work import WorkSnapshot


class Feeds(Protocol):
    """The newest value of each published state, and the signal that carries the next."""

    snapshot: ClusterSnapshot
    snapshot_signal: Signal[ClusterSnapshot]
    ray_view: RayClusterView
    ray_signal: Signal[RayClusterView]
    reservations: ReservationsSnapshot
    reservations_signal: Signal[ReservationsSnapshot]
    offload: OffloadSnapshot
    offload_signal: Signal[OffloadSnapshot]
    memory: MemorySnapshot
    memory_signal: Signal[MemorySnapshot]
    work: WorkSnapshot
    work_signal: Signal[WorkSnapshot]


def feeds(app: App[Any]) -> Feeds:
    """The app as its feeds (GridApp provides them; widgets cannot import the app module,
    which imports them)."""
    return cast(Feeds, app)
