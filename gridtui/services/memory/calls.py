"""MemoryCalls: what the console calls on the memory store's client, wherever it runs
(this process's MemoryService, or the console's driver process: services/ray/driver_stubs.py)."""

from __future__ import annotations

import os
from typing import Protocol

from gridtui.model.objects import MemorySnapshot, StoredObject
from gridtui.services.memory.transfer import Job

Path = str | os.PathLike[str]


class MemoryCalls(Protocol):
    def store_job(
        self, key: str, source: Path, *, node: str | None = None, replicas: int = 1,
        force: bool = False,
    ) -> Job: ...  # fmt: skip
    def retrieve_job(self, key: str, target: Path, *, wait: bool = True) -> Job: ...
    def delete(self, key: str) -> StoredObject: ...
    def peek(self) -> MemorySnapshot | None: ...
