"""SshTransport: the NodeTransport contract over one kept-open, multiplexed asyncssh connection."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import weakref
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import asyncssh

from gridtui.config import NodeConfig, SshSettings
from gridtui.transport import sshfiles
from gridtui.transport.backoff import Backoff
from gridtui.transport.base import CommandResult, TransportError, command_line
from gridtui.transport.sshfiles import display_path
from gridtui.transport.sshforward import SshForward, open_forward
from gridtui.transport.sshhostkey import HostKeyCheck, host_key_error

_KEEPALIVE_SECONDS = 15.0

_connect_slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary()
)


def connect_semaphore(limit: int) -> asyncio.Semaphore:
    """The process-wide cap on connects in flight, one per event loop (semaphores bind a loop).

    The first caller on a loop sizes it; every cluster in one process shares its settings.
    """
    loop = asyncio.get_running_loop()
    sem = _connect_slots.get(loop)
    if sem is None:
        sem = _connect_slots[loop] = asyncio.Semaphore(limit)
    return sem


def preferred_ciphers() -> list[str]:
    """asyncssh's defaults with AES-GCM first: on CPUs with AES-NI it costs ~20% less CPU
    per packet than chacha20-poly1305 (bench/fanout.py, 100 streams), and a console reading
    a hundred streams spends most of its time in packet handling."""
    from asyncssh.encryption import get_default_encryption_algs

    defaults = [alg.decode() for alg in get_default_encryption_algs()]
    first = [a for a in ("aes128-gcm@openssh.com", "aes256-gcm@openssh.com") if a in defaults]
    return first + [a for a in defaults if a not in first]


def _user_sets_ciphers() -> bool:
    """Whether ~/.ssh/config names Ciphers: then the user's choice wins over ours."""
    try:
        text = sshfiles.ssh_config_path().read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return any(line.strip().lower().startswith("ciphers") for line in text.splitlines())


def _signal_number(name: str) -> int:
    try:
        return int(signal.Signals[f"SIG{name}"])
    except KeyError:
        return 0


class _SshLineStream:
    """A remote process's stdout (stderr merged) as lines; close() ends the channel."""

    def __init__(self, owner: SshTransport, process: asyncssh.SSHClientProcess[str]) -> None:
        self._owner = owner
        self._process = process

    async def __aiter__(self) -> AsyncIterator[str]:
        try:
            while True:
                # readline() gives "" only at EOF; an empty output line is "\n".
                line = await self._process.stdout.readline()
                if not line:
                    return
                yield line.rstrip("\n")
        except (asyncssh.Error, OSError) as exc:
            raise self._owner.error(exc, "stream") from None

    async def close(self) -> None:
        await self._owner.end_process(self._process)


class SshTransport:
    """One lazily opened connection per node, shared by every run() and stream on it."""

    def __init__(
        self,
        node: NodeConfig,
        settings: SshSettings | None = None,
        *,
        connect_attempts: int = 3,
    ) -> None:
        self.node = node
        self.settings = settings or SshSettings()
        self.connect_attempts = max(1, connect_attempts)
        self.connects = 0  # connections opened so far: tests and the bench read it
        self._conn: asyncssh.SSHClientConnection | None = None
        self._client: HostKeyCheck | None = None
        self._lock = asyncio.Lock()
        self._failure: tuple[float, TransportError] | None = None  # (when, why) of the last
        self._backoff = Backoff(base=min(0.25, self.settings.connect_timeout / 4), cap=2.0)

    # -- connection ---------------------------------------------------------------------

    def connection_lost(self, client: HostKeyCheck) -> None:
        """Forget a dead connection so the next call opens a fresh one."""
        if client is self._client:
            self._conn, self._client = None, None

    def _options(self, identity_encrypted: bool = False) -> dict[str, Any]:
        opts: dict[str, Any] = {
            "connect_timeout": self.settings.connect_timeout,
            "keepalive_interval": _KEEPALIVE_SECONDS,
            "keepalive_count_max": 3,
        }
        # Leaving an option out lets ~/.ssh/config (and then asyncssh's defaults) decide.
        if not self.settings.use_ssh_config:
            opts["config"] = None
        if not (self.settings.use_ssh_config and _user_sets_ciphers()):
            opts["encryption_algs"] = preferred_ciphers()
        if self.node.port is not None:
            opts["port"] = self.node.port
        if self.node.user is not None:
            opts["username"] = self.node.user
        if self.node.identity is not None:
            opts["client_keys"] = [str(self.node.identity)]
            # Encrypted, with an agent running: the agent's keys stand in for the file.
            opts["ignore_encrypted"] = identity_encrypted
        return opts

    def _target(self) -> str:
        port = self.node.port
        return f"{self.node.host}:{port}" if port is not None else self.node.host

    def _host_key_error(self, client: HostKeyCheck, exc: Exception) -> TransportError:
        return host_key_error(self.node, self.settings, self._target(), client, exc)

    async def _connect_once(self) -> asyncssh.SSHClientConnection:
        # This machine's own files first: their problems are named as such, not retried.
        sshfiles.check_ssh_config(self.node, self.settings)
        encrypted = sshfiles.check_identity(self.node)
        known = sshfiles.read_known_hosts(self.node, self.settings)
        client = HostKeyCheck(self, known)
        budget = self.settings.connect_timeout * 2  # TCP connect, then the handshake and auth
        try:
            async with connect_semaphore(self.settings.max_concurrent_connects):
                conn = await asyncio.wait_for(
                    asyncssh.connect(
                        self.node.host,
                        known_hosts=known,
                        client_factory=lambda: client,
                        **self._options(encrypted),
                    ),
                    budget,
                )
        except asyncssh.HostKeyNotVerifiable as exc:
            if client.record_failed is not None:
                raise sshfiles.record_error(
                    self.node, self.settings, client.where, client.record_failed
                ) from None
            raise self._host_key_error(client, exc) from None
        except asyncssh.ConfigParseError as exc:
            raise sshfiles.ssh_config_error(self.node, exc) from None
        except asyncssh.PermissionDenied as exc:
            error = self.error(exc, "connect")
            if encrypted:
                shown = display_path(self.node.identity or Path())
                error = TransportError(
                    "auth", f"{error.message}; {shown} is encrypted: is it loaded in ssh-agent?"
                )
            raise error from None
        except asyncssh.KeyExchangeFailed as exc:
            # With a key on file asyncssh offers only its algorithm; a server that changed
            # key type fails here, and that is a changed host key too.
            if client.problem or known.match(self.node.host, "", self.node.port)[0]:
                client.problem = client.problem or "changed"
                raise self._host_key_error(client, exc) from None
            raise self.error(exc, "connect") from None
        except (asyncssh.Error, OSError, asyncio.TimeoutError, UnicodeError) as exc:
            raise self.error(exc, "connect") from None
        self._client = client
        self.connects += 1
        return conn

    async def _connection(self) -> asyncssh.SSHClientConnection:
        loop = asyncio.get_running_loop()
        asked = loop.time()
        async with self._lock:
            if self._conn is not None and not self._conn.is_closed():
                return self._conn
            self._conn = None
            # Callers that queued behind a connect share its outcome: a node that just
            # refused three attempts is not asked three more times for the next caller.
            if self._failure is not None and self._failure[0] >= asked:
                raise self._failure[1]
            attempt = 0
            while True:
                attempt += 1
                try:
                    self._conn = await self._connect_once()
                except TransportError as exc:
                    if not exc.transient or attempt >= self.connect_attempts:
                        self._failure = (loop.time(), exc)
                        raise
                    await asyncio.sleep(self._backoff.next_delay())
                    continue
                self._backoff.reset()
                self._failure = None
                return self._conn

    # -- errors -------------------------------------------------------------------------

    def error(self, exc: BaseException, doing: str) -> TransportError:
        """One-line TransportError naming the node, with the reason the console shows."""
        name, target = self.node.name, self._target()
        if isinstance(exc, TransportError):
            return exc
        if isinstance(exc, asyncssh.PermissionDenied):
            return TransportError("auth", f"{name}: {target} refused our keys ({exc.reason})")
        if isinstance(exc, asyncssh.HostKeyNotVerifiable):
            return TransportError("host-key", f"{name}: {target}: {exc.reason}")
        if isinstance(exc, asyncio.TimeoutError):
            return TransportError("timeout", f"{name}: {doing} to {target} timed out")
        if isinstance(exc, ConnectionRefusedError):
            return TransportError("refused", f"{name}: {target} refused the connection")
        if isinstance(exc, (asyncssh.ConnectionLost, asyncssh.DisconnectError)):
            reason = getattr(exc, "reason", "") or exc.__class__.__name__
            return TransportError("closed", f"{name}: connection to {target} lost: {reason}")
        if isinstance(exc, asyncssh.ChannelOpenError):
            return TransportError("closed", f"{name}: {target} refused a channel: {exc.reason}")
        if isinstance(exc, UnicodeError):  # the resolver's verdict on a malformed name
            return TransportError("dns", f"{name}: {target} is not a valid host name")
        if isinstance(exc, socket.gaierror):
            why = exc.strerror or str(exc)
            return TransportError("dns", f"{name}: cannot resolve {self.node.host}: {why}")
        if isinstance(exc, OSError):
            why = exc.strerror or exc.__class__.__name__
            return TransportError("unreachable", f"{name}: cannot reach {target}: {why}")
        text = str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
        return TransportError("error", f"{name}: {doing} on {target} failed: {text}")

    # -- commands -----------------------------------------------------------------------

    async def end_process(self, process: asyncssh.SSHClientProcess[str]) -> None:
        """Ask the remote side to stop (signal, where the server honours it), then close."""
        # Not is_closing(): it is already true once our stdin EOF is sent.
        if process.exit_status is not None or process.exit_signal is not None:
            process.close()
            return
        with contextlib.suppress(asyncssh.Error, OSError):
            process.terminate()
        with contextlib.suppress(asyncssh.Error, OSError):
            process.close()
        with contextlib.suppress(asyncssh.Error, OSError, asyncio.TimeoutError):
            await asyncio.wait_for(process.wait_closed(), 2)

    async def _start(
        self, argv: Sequence[str], merge_stderr: bool
    ) -> asyncssh.SSHClientProcess[str]:
        command = command_line(argv)
        conn = await self._connection()
        limit = self.settings.connect_timeout
        try:
            # asyncssh's channel open has no time limit of its own: on a silent link it
            # would wait for the keepalive to give up (most of a minute).
            return await asyncio.wait_for(
                conn.create_process(
                    command,
                    stderr=asyncssh.STDOUT if merge_stderr else asyncssh.PIPE,
                    encoding="utf-8",
                    errors="replace",
                ),
                limit,
            )
        except asyncio.TimeoutError:
            self._drop(conn)
            raise TransportError(
                "timeout",
                f"{self.node.name}: {self._target()} did not open a channel in {limit:g}s",
            ) from None
        except (asyncssh.Error, OSError) as exc:
            raise self.error(exc, f"starting {argv[0]}") from None

    async def run(
        self,
        argv: Sequence[str],
        *,
        input: str | None = None,
        timeout: float | None = None,
    ) -> CommandResult:
        limit = timeout if timeout is not None else self.settings.command_timeout
        process = await self._start(argv, merge_stderr=False)
        try:
            if input is not None:
                process.stdin.write(input)
            process.stdin.write_eof()
            done = await process.wait(check=False, timeout=limit)
        except asyncio.TimeoutError:
            await self.end_process(process)
            raise TransportError(
                "timeout", f"{self.node.name}: {argv[0]} did not finish in {limit:g}s"
            ) from None
        except (asyncssh.Error, OSError) as exc:
            await self.end_process(process)
            raise self.error(exc, f"running {argv[0]}") from None
        except asyncio.CancelledError:
            await self.end_process(process)
            raise
        status = done.exit_status
        if status is None or status < 0:  # killed by a signal: the shell's 128+N convention
            status = 128 + _signal_number(done.exit_signal[0]) if done.exit_signal else -1
        return CommandResult(
            tuple(str(a) for a in argv),
            status,
            str(done.stdout or ""),
            str(done.stderr or ""),
        )

    async def open_stream(self, argv: Sequence[str], *, input: str | None = None) -> _SshLineStream:
        # stderr joins stdout so a remote traceback reaches the hub as the stream's last words.
        process = await self._start(argv, merge_stderr=True)
        try:
            if input is not None:
                process.stdin.write(input)
            process.stdin.write_eof()
        except (asyncssh.Error, OSError) as exc:
            await self.end_process(process)
            raise self.error(exc, f"starting {argv[0]}") from None
        return _SshLineStream(self, process)

    async def forward(self, port: int, host: str = "127.0.0.1") -> SshForward:
        """A loopback port here that the node connects on to its own `host:port`."""
        return await open_forward(self, await self._connection(), host, port)

    def _drop(self, conn: asyncssh.SSHClientConnection) -> None:
        """Abandon a connection that stopped answering; the next call opens a new one."""
        if conn is self._conn:
            self._conn, self._client = None, None
        conn.abort()

    async def reset(self) -> None:
        """Drop the connection without waiting for it: the link went silent."""
        if self._conn is not None:
            self._drop(self._conn)

    async def close(self) -> None:
        async with self._lock:
            conn, self._conn, self._client = self._conn, None, None
        if conn is not None:
            conn.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.wait_closed(), 5)
