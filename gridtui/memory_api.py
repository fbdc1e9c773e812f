"""Python API of the memory store: put, get, get_to, list, info and delete by key."""

from __future__ import annotations

import asyncio
import builtins
import concurrent.futures
import os
import threading
from typing import Any

from gridtui.config import ClusterConfig, load_config
from gridtui.model.objects import ShardUsage, StoredObject
from gridtui.services.cluster.lookup import find_cluster
from gridtui.services.memory.client import MemoryService, ProgressFn

_lock = threading.Lock()
_service: MemoryService | None = None
_gateway: Any = None

Data = bytes | bytearray | memoryview | str | os.PathLike[str]


def connect(config: ClusterConfig | str | os.PathLike[str] | None = None) -> MemoryService:
    """The service, connected once per process: to the cluster of a file path or a
    ClusterConfig, else found by the usual lookup (or the running demo); a Ray driver this
    process already runs is used as it is. Objects outlive the process that stored them:

        from gridtui import client as memory  # or gridtui.memory_api
        memory.put("weights/v3", Path("model.bin"), replicas=2)
        data = memory.get("weights/v3")
    """
    global _service, _gateway
    with _lock:
        if _service is not None:
            return _service
        import ray

        if isinstance(config, str | os.PathLike):
            config = load_config(config)
        if ray.is_initialized():
            _service = MemoryService(config)
            return _service
        from gridtui.services.ray.gateway import RayGateway

        config = config or find_cluster(announce=False).config
        gateway = RayGateway(config)
        # Its own loop on its own thread: the caller may be inside an event loop already.
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, gateway.connect()).result()
        _gateway = gateway
        _service = MemoryService(config)
        return _service


def put(
    key: str,
    data: Data,
    *,
    node: str | None = None,
    replicas: int = 1,
    force: bool = False,
    progress: ProgressFn | None = None,
) -> StoredObject:
    """Store bytes, or the file at a path (str or PathLike), under `key`."""
    return connect().store(key, data, node=node, replicas=replicas, force=force, progress=progress)


def get(key: str) -> bytes:
    return connect().read(key)


def get_to(key: str, path: str | os.PathLike[str]) -> StoredObject:
    """Write the object to `path` (replaced only once the whole object checked out)."""
    return connect().retrieve(key, path)


def list() -> builtins.list[StoredObject]:
    return connect().objects()


def info(key: str) -> StoredObject:
    return connect().info(key)


def delete(key: str) -> StoredObject:
    return connect().delete(key)


def usage() -> builtins.list[ShardUsage]:
    return connect().usage()
