"""Running a command's coroutine so that Ctrl-C always ends it as interrupted (exit 130)."""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import Coroutine
from types import FrameType
from typing import Any, TypeVar

T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    """asyncio.run, where a Ctrl-C always raises KeyboardInterrupt in the end.

    The first Ctrl-C cancels the command's task, so its cleanup runs (a transfer aborted,
    a connection closed), as asyncio.run does; a second one raises at once. Unlike
    asyncio.run, a command whose task finishes anyway (its work was done, or a wait
    swallowed the cancel) still ends interrupted, whatever it returned: the caller says
    what was left and exits 130. A SIGINT the parent set to be ignored stays ignored."""
    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGINT) is not signal.default_int_handler
    ):
        return asyncio.run(coro)
    interrupted = False
    task: asyncio.Task[T] | None = None
    loop: asyncio.AbstractEventLoop | None = None

    async def main() -> T:
        nonlocal task, loop
        task, loop = asyncio.current_task(), asyncio.get_running_loop()
        return await coro

    def on_sigint(signum: int, frame: FrameType | None) -> None:
        nonlocal interrupted
        if interrupted or task is None or loop is None or task.done():
            raise KeyboardInterrupt
        interrupted = True
        task.cancel()
        loop.call_soon_threadsafe(lambda: None)  # wake a loop asleep in select()

    signal.signal(signal.SIGINT, on_sigint)
    try:
        result = asyncio.run(main())
    except BaseException:
        if interrupted:  # whatever the cancelled work raised on its way out
            raise KeyboardInterrupt from None
        raise
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    if interrupted:
        raise KeyboardInterrupt
    return result
