"""LocalTransport: the NodeTransport contract for this machine, through subprocesses."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import AsyncIterator, Sequence

from gridtui.config import NodeConfig
from gridtui.transport.base import CommandResult, DirectForward, TransportError


async def _terminate(proc: asyncio.subprocess.Process, grace: float = 2.0) -> None:
    """End a child and its process group: SIGTERM, then SIGKILL after a grace period."""
    if proc.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        await asyncio.wait_for(proc.wait(), grace)
    except asyncio.TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        await proc.wait()


class LocalLineStream:
    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self._proc = proc

    async def __aiter__(self) -> AsyncIterator[str]:
        assert self._proc.stdout is not None
        while True:
            line = await self._proc.stdout.readline()
            if not line:
                return
            yield line.decode("utf-8", "replace").rstrip("\n")

    async def close(self) -> None:
        await _terminate(self._proc)


class LocalTransport:
    """Runs argv directly (no shell), in its own process group so it can be stopped whole."""

    def __init__(self, node: NodeConfig, *, command_timeout: float = 30.0) -> None:
        self.node = node
        self.command_timeout = command_timeout

    async def _spawn(
        self, argv: Sequence[str], *, merge_stderr: bool = False
    ) -> asyncio.subprocess.Process:
        """Start argv; FileNotFoundError or PermissionError when there is no such program."""
        return await asyncio.create_subprocess_exec(
            *[str(a) for a in argv],
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            # A stream's stderr joins stdout (as over SSH): the hub keeps its last words,
            # and an unread stderr pipe can never fill up and stall the agent.
            stderr=asyncio.subprocess.STDOUT if merge_stderr else asyncio.subprocess.PIPE,
            start_new_session=True,
        )

    async def _spawn_or_fail(
        self, argv: Sequence[str], *, merge_stderr: bool = False
    ) -> asyncio.subprocess.Process:
        try:
            return await self._spawn(argv, merge_stderr=merge_stderr)
        except (FileNotFoundError, PermissionError) as exc:
            raise TransportError(
                "error", f"{self.node.name}: cannot run {argv[0]}: {exc}"
            ) from None

    async def run(
        self,
        argv: Sequence[str],
        *,
        input: str | None = None,
        timeout: float | None = None,
    ) -> CommandResult:
        try:
            proc = await self._spawn(argv)
        except (FileNotFoundError, PermissionError) as exc:
            # What a shell over SSH answers for a missing program: the node was reached.
            return CommandResult(
                tuple(str(a) for a in argv),
                127 if isinstance(exc, FileNotFoundError) else 126,
                "",
                f"{argv[0]}: {exc.strerror or exc}\n",
            )
        limit = timeout if timeout is not None else self.command_timeout
        try:
            out, err = await asyncio.wait_for(
                proc.communicate(input.encode() if input is not None else None), limit
            )
        except asyncio.TimeoutError:
            await _terminate(proc)
            raise TransportError(
                "timeout", f"{self.node.name}: {argv[0]} did not finish in {limit:g}s"
            ) from None
        except asyncio.CancelledError:
            await _terminate(proc)
            raise
        return CommandResult(
            tuple(str(a) for a in argv),
            proc.returncode if proc.returncode is not None else -1,
            out.decode("utf-8", "replace"),
            err.decode("utf-8", "replace"),
        )

    async def open_stream(
        self, argv: Sequence[str], *, input: str | None = None
    ) -> LocalLineStream:
        proc = await self._spawn_or_fail(argv, merge_stderr=True)
        assert proc.stdin is not None
        if input is not None:
            proc.stdin.write(input.encode())
        await proc.stdin.drain()
        proc.stdin.close()
        return LocalLineStream(proc)

    async def reset(self) -> None:
        return None  # nothing is kept open between commands

    async def forward(self, port: int, host: str = "127.0.0.1") -> DirectForward:
        return DirectForward(host, port)  # this machine's loopback is the node's

    async def close(self) -> None:
        return None
