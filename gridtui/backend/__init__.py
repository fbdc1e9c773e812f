"""The services' one facade: `Backend` for the console and the API, `Headless` for the CLI."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gridtui.backend.console import DEMO_STARTING, Backend, make_backend

    # The services' types the fronts name (they are handed these by the facade, never
    # build them): the console's feeds, the CLI's clients, the API's token store.
    from gridtui.services.api_tokens import TokenStore as TokenStore
    from gridtui.services.cluster.lookup import Cluster as Cluster
    from gridtui.services.control.client import ControlClient as ControlClient
    from gridtui.services.control.client import ControllerInfo as ControllerInfo
    from gridtui.services.control.feed import ControlService as ControlService
    from gridtui.services.control.requests import Request as Request
    from gridtui.services.memory.client import MemoryService as MemoryService
    from gridtui.services.memory.feed import ConsoleMemory as ConsoleMemory
    from gridtui.services.memory.io import FileSink as FileSink
    from gridtui.services.memory.io import Sink as Sink
    from gridtui.services.offload.feed import OffloadFeed as OffloadFeed
    from gridtui.services.work.service import WorkService as WorkService

__all__ = ["DEMO_STARTING", "Backend", "make_backend"]


def __getattr__(name: str) -> Any:
    # Loaded on first use: a CLI command imports gridtui.backend.headless, and the console's
    # services (metrics hub, transports, Ray view) would add ~80 ms to each command's start.
    if name in __all__:
        from gridtui.backend import console

        return getattr(console, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
