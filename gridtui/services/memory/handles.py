"""The Ray side of a memory client: the index host, the shards, and their errors."""

from __future__ import annotations

from typing import Any, TypeVar

from gridtui.errors import KeyExists, MemoryRefused, NoSuchObject, UserError
from gridtui.model.wire import Wire, WireError, answer, encode
from gridtui.model.wire.memory import MemoryCall

R = TypeVar("R")

CALL_TIMEOUT = 60.0


_KINDS: dict[str, type[MemoryRefused]] = {"unknown": NoSuchObject, "exists": KeyExists}


class ObjectLost(MemoryRefused):
    """Every replica of the object is gone with its node or shard."""


class ChecksumMismatch(MemoryRefused):
    """A stored chunk does not match the checksum taken when it was stored."""


class TransferCancelled(UserError):
    exit_code = 130


def reason(exc: BaseException) -> str:
    """One line from a Ray error (whose text is a traceback) or any other exception."""
    import ray

    cause = getattr(exc, "cause", None)
    if isinstance(exc, ray.exceptions.RayActorError):
        return "its shard died (node lost or actor killed)"
    if isinstance(exc, ray.exceptions.GetTimeoutError):
        return "no answer in time"
    base = cause if cause is not None else exc
    lines = [ln.strip() for ln in str(base).strip().splitlines() if ln.strip()]
    return lines[-1] if lines else base.__class__.__name__


def error_of(err: WireError) -> MemoryRefused:
    """The memory host's refusal as the error the fronts report."""
    return _KINDS.get(err.kind, MemoryRefused)(err.message)


class RayMemory:
    """The Ray side of a memory client: the index host (created on first use) and shards,
    called through the memory host's protocol (gridtui/model/wire/memory.py)."""

    def __init__(self, fraction: float) -> None:
        self.fraction = fraction
        self._host: Any = None

    def host(self, fresh: bool = False) -> Any:
        if self._host is None or fresh:
            from gridtui.actors import registry
            from gridtui.actors.memory_host import MemoryHost

            self._host = registry.start_memory_host(MemoryHost)
        return self._host

    def exists(self) -> bool:
        """Whether the index host runs, asked without starting it (looking changes nothing;
        asked each time, so one killed for good is not brought back by the next look)."""
        from gridtui.actors import registry

        self._host = registry.find_memory_host()
        return self._host is not None

    def send(self, call: MemoryCall[R], fresh: bool = False) -> Any:
        """The call on its way: a Ray reference to its answer, for `receive`."""
        return self.host(fresh).call.remote(encode(call))

    @staticmethod
    def receive(call: MemoryCall[R], data: Wire) -> R:
        """The answer to `call`; a refusal is raised as MemoryRefused (or a subclass)."""
        got = answer(data, call)
        if isinstance(got, WireError):
            raise error_of(got)
        return got

    def ask(self, call: MemoryCall[R], *, timeout: float = CALL_TIMEOUT) -> R:
        """Call the index host and wait; a host that died is looked up (or started) again
        once."""
        import ray

        for attempt in (0, 1):
            try:
                data = ray.get(self.send(call, attempt == 1), timeout=timeout)
                break
            except ray.exceptions.RayActorError:
                if attempt:
                    raise MemoryRefused("the memory index is not available") from None
            except ray.exceptions.GetTimeoutError:
                raise MemoryRefused(f"the memory index did not answer in {timeout:g}s") from None
        return self.receive(call, data)

    def shard(self, name: str) -> Any:
        """Looked up each time (one GCS call per transfer): a shard that held nothing may
        have retired since, and a new one taken its name (MemoryHost._retire)."""
        from gridtui.actors import registry

        handle = registry.find(name)
        if handle is None:
            raise ValueError(f"Failed to look up actor with name '{name}'")
        return handle

    def node_id(self) -> str:
        import ray

        return str(ray.get_runtime_context().get_node_id())
