"""The Ray side of a memory client: the index host, the shards, and their errors."""

from __future__ import annotations

from typing import Any

from gridtui.errors import KeyExists, MemoryRefused, NoSuchObject, UserError

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


class RayMemory:
    """The Ray side of a memory client: the index host (created on first use) and shards."""

    def __init__(self, fraction: float) -> None:
        self.fraction = fraction
        self._host: Any = None

    def host(self, fresh: bool = False) -> Any:
        if self._host is None or fresh:
            import ray

            from gridtui.actors.memory_host import MemoryHost, host_options

            self._host = ray.remote(MemoryHost).options(**host_options()).remote()
        return self._host

    def exists(self) -> bool:
        """Whether the index host runs, asked without starting it (looking changes nothing;
        asked each time, so one killed for good is not brought back by the next look)."""
        import ray

        from gridtui.actors.memory_host import INDEX_NAME

        try:
            self._host = ray.get_actor(INDEX_NAME, namespace="gridtui")
        except ValueError:
            self._host = None
            return False
        return True

    def ask(self, method: str, *args: Any, timeout: float = CALL_TIMEOUT) -> Any:
        """Call the index host; a host that died is looked up (or started) again once.
        A refusal ({"error": ...}) becomes MemoryRefused."""
        import ray

        for attempt in (0, 1):
            try:
                ref = getattr(self.host(attempt == 1), method).remote(*args)
                result = ray.get(ref, timeout=timeout)
                break
            except ray.exceptions.RayActorError:
                if attempt:
                    raise MemoryRefused("the memory index is not available") from None
            except ray.exceptions.GetTimeoutError:
                raise MemoryRefused(f"the memory index did not answer in {timeout:g}s") from None
        if isinstance(result, dict) and "error" in result:
            raise _KINDS.get(str(result.get("kind")), MemoryRefused)(result["error"])
        return result

    def shard(self, name: str) -> Any:
        """Looked up each time (one GCS call per transfer): a shard that held nothing may
        have retired since, and a new one taken its name (MemoryHost._retire)."""
        import ray

        return ray.get_actor(name, namespace="gridtui")

    def node_id(self) -> str:
        import ray

        return str(ray.get_runtime_context().get_node_id())
