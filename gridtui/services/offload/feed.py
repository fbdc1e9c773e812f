"""OffloadFeed: the console's auto-offload service: polls the engine, publishes, changes it.

It reaches the engine through the ControlService's calls (on the Ray gateway's thread); a
poll publishes an OffloadSnapshot (policy, fences, live figures, events newest first)."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from gridtui.errors import GridError
from gridtui.model.offload import OffloadEvent, OffloadPolicy, Rule
from gridtui.model.offload_view import OffloadSnapshot, merge_events
from gridtui.policy import tuning
from gridtui.policy.tuning import Replay
from gridtui.services.publish import Publisher
from gridtui.services.waits import wait_woken

Listener = Callable[[OffloadSnapshot], None]


class OffloadCalls(Protocol):
    """What the feed needs of the controller (ControlService; a fake in tests)."""

    async def offload_status(self) -> dict[str, Any]: ...

    async def offload_set(
        self, policy: OffloadPolicy, scopes: Mapping[str, str]
    ) -> dict[str, Any]: ...

    async def offload_events(self, since: int = 0) -> dict[str, Any]: ...


class OffloadFeed:
    """Owned by the Backend; `head` is the head's name (the policy may say `head`)."""

    def __init__(
        self,
        calls: OffloadCalls,
        *,
        file_policy: OffloadPolicy,
        scopes: Mapping[str, str],
        head: str,
        config_path: Path | None = None,
        ready: Callable[[], bool] = lambda: True,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.calls = calls
        self.file_policy = file_policy
        self.scopes = dict(scopes)
        self.head = head
        self.config_path = config_path
        self.ready = ready
        self.clock = clock
        self.published = Publisher(OffloadSnapshot(clock(), message="not connected"))
        self._seq = 0
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()

    @property
    def snapshot(self) -> OffloadSnapshot:
        return self.published.value()

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        return self.published.subscribe(listener)

    def _publish(self, snap: OffloadSnapshot) -> None:
        self.published.publish(snap)

    # -- reading ---------------------------------------------------------------------------

    async def refresh(self) -> OffloadSnapshot:
        """Read the engine now (status, then events since the last read) and publish."""
        status = await self.calls.offload_status()
        found = await self.calls.offload_events(self._seq)
        kept = self.snapshot.events
        if int(found.get("seq", 0)) < self._seq:
            kept = ()  # a new event log (the head's KV was wiped): start over
        new = [OffloadEvent.from_record(e) for e in found.get("events", ())]
        events = merge_events(kept, new)
        self._seq = int(found.get("seq", 0))
        snap = OffloadSnapshot.from_status(self.clock(), status, events)
        self._publish(snap)
        return snap

    async def read_once(self) -> None:
        """One refresh; a failure keeps what was known and says why in the snapshot."""
        try:
            if self.ready():
                await self.refresh()
            else:
                self._failed("Ray is not connected")
        except asyncio.CancelledError:
            raise
        except GridError as exc:
            self._failed(exc.summary)
        except Exception as exc:  # a Ray hiccup: shown, then retried
            self._failed(str(exc) or repr(exc))

    async def poll(self, interval: float = 2.0) -> None:
        """Publish forever."""
        while True:
            await self.read_once()
            await wait_woken(self._wake, interval)

    def _failed(self, why: str) -> None:
        snap = self.snapshot
        if snap.message != why or snap.connected:
            snap = dataclasses.replace(snap, time=self.clock(), connected=False, message=why)
            self._publish(snap)

    def start_polling(self, interval: float = 2.0) -> asyncio.Task[None]:
        self._task = asyncio.create_task(self.poll(interval), name="offload-poll")
        return self._task

    def wake(self) -> None:
        self._wake.set()

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.wait({self._task}, timeout=5)
            self._task = None

    # -- changing the running policy --------------------------------------------------------

    async def _base(self) -> OffloadPolicy:
        """The running policy, or the cluster file's while the engine holds none (as the CLI)."""
        status = await self.calls.offload_status()
        return OffloadPolicy.from_record(status) if status.get("stored") else self.file_policy

    async def _set(self, policy: OffloadPolicy) -> OffloadPolicy:
        await self.calls.offload_set(policy, self.scopes)
        await self.refresh()
        return policy

    async def set_threshold(self, node: str, resource: str, value: float) -> OffloadPolicy:
        """The threshold that governs `resource` on `node`, on the running engine."""
        base = await self._base()
        try:
            policy = tuning.with_threshold(base, node, resource, value, self.head)
        except ValueError as exc:
            raise GridError(str(exc)) from None
        return await self._set(policy)

    async def set_enabled(self, enabled: bool) -> OffloadPolicy:
        """On in the mode it had; off leaves no dry-run flag behind (as `--disable`)."""
        base = await self._base()
        dry_run = base.dry_run and enabled
        return await self._set(dataclasses.replace(base, enabled=enabled, dry_run=dry_run))

    # -- what the view works out (pure, and on the policy's own code) -----------------------

    def rule(self, policy: OffloadPolicy, node: str, resource: str) -> Rule | None:
        return tuning.governing(policy, node, resource, self.head)

    def override(self, policy: OffloadPolicy, node: str, resource: str) -> str | None:
        return tuning.override_key(policy, node, resource, self.head)

    def watched(self, policy: OffloadPolicy) -> list[str]:
        """The watched nodes by name (the head's alias resolved)."""
        names = (self.head if n == "head" else n for n in policy.watched)
        return list(dict.fromkeys(names))

    def replay(
        self, values: Sequence[float], interval: float, end: float, node: str, resource: str,
        rule: Rule, threshold: float,
    ) -> Replay:  # fmt: skip
        """What `rule` at `threshold` would have done over `values` (one every `interval`)."""
        times = tuning.series(len(values), interval, end)
        candidate = dataclasses.replace(rule, threshold=threshold)
        return tuning.replay(times, values, node, resource, candidate)

    # -- the cluster file ------------------------------------------------------------------

    def save_field(self, policy: OffloadPolicy, node: str, resource: str) -> str:
        """The dotted field `save_threshold` writes: `offload.thresholds.cpu`."""
        from gridtui.services.offload.cluster_file import threshold_path

        return ".".join(threshold_path(resource, self.override(policy, node, resource)))

    def save_threshold(self, policy: OffloadPolicy, node: str, resource: str) -> str:
        """Blocking (file I/O): write the running value into the cluster file."""
        from gridtui.services.offload.cluster_file import SaveRefused, save_threshold

        if self.config_path is None:
            raise SaveRefused("no cluster file (the demo): nothing to save to")
        rule = self.rule(policy, node, resource)
        if rule is None:
            raise SaveRefused(f"no {resource} threshold on {node} to save")
        override = self.override(policy, node, resource)
        return save_threshold(self.config_path, resource, rule.threshold, override)
