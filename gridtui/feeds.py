"""Feeds: every state the facade publishes for the fronts, each one Publisher[T]."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from gridtui.model.nodes import Alert, ClusterSnapshot
from gridtui.model.objects import MemorySnapshot
from gridtui.model.offload_view import OffloadSnapshot
from gridtui.model.ray import RayClusterView
from gridtui.model.reservations import ReservationsSnapshot
from gridtui.services.publish import EventStream, Publisher

NOT_YET = "Ray not connected yet"


@dataclass(frozen=True)
class Feeds:
    """What the facade exposes for a front to follow. The services behind reservations,
    offload and memory start with Ray, after a front subscribed: their feeds exist from
    the start and say so until then, so a front subscribes once, at its own start.

    Light on purpose (the model and publish.py): the console builds a stand-in before its
    first frame, while the cluster file is still being read."""

    nodes: Publisher[ClusterSnapshot]
    ray: Publisher[RayClusterView]
    alerts: EventStream[Alert]
    reservations: Publisher[ReservationsSnapshot] = field(
        default_factory=lambda: Publisher(ReservationsSnapshot(time.time(), message=NOT_YET))
    )
    offload: Publisher[OffloadSnapshot] = field(
        default_factory=lambda: Publisher(OffloadSnapshot(time.time(), message=NOT_YET))
    )
    memory: Publisher[MemorySnapshot] = field(
        default_factory=lambda: Publisher(MemorySnapshot((), (), time.time(), message=NOT_YET))
    )

    @classmethod
    def standin(cls, nodes: ClusterSnapshot) -> Feeds:
        """Feeds with nothing behind them yet: the console's first frame, before its file."""
        return cls(Publisher(nodes), Publisher(RayClusterView()), EventStream())
