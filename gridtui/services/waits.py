"""Waits a cancel always ends: Python 3.11's wait_for can swallow a cancel racing a result."""

from __future__ import annotations

import asyncio
import contextlib


def raise_if_cancelled() -> None:
    """Raise CancelledError when the current task was asked to stop: a cancel that lost a
    race with a result (3.11's wait_for returns the result then) still counts."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


async def wait_woken(wake: asyncio.Event, seconds: float) -> None:
    """Until `wake` is set or `seconds` pass (then it is cleared again). A poll loop pauses
    here, so a stop that raced the wake-up still ends the loop."""
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(wake.wait(), seconds)
    wake.clear()
    raise_if_cancelled()
