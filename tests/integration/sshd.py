"""In-process asyncssh servers on 127.0.0.N that run real shell commands, for tests and benches."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import asyncssh

USER = "gridtui"


def free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def write_key(key: asyncssh.SSHKey, path: Path) -> Path:
    """Private key at mode 600 (OpenSSH refuses looser ones), public key beside it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    key.write_private_key(str(path))
    os.chmod(path, 0o600)
    key.write_public_key(str(path) + ".pub")
    return path


def new_key() -> asyncssh.SSHKey:
    return asyncssh.generate_private_key("ssh-ed25519")


def known_hosts_line(host: str, port: int, key: asyncssh.SSHKey) -> str:
    where = host if port == 22 else f"[{host}]:{port}"
    return f"{where} {key.export_public_key('openssh').decode().strip()}\n"


def write_known_hosts(path: Path, servers: Sequence[SshServer]) -> Path:
    path.write_text("".join(known_hosts_line(s.host, s.port, s.host_key) for s in servers))
    return path


async def _kill_group(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(Exception):
        await asyncio.wait_for(proc.wait(), 5)


class _Counter(asyncssh.SSHServer):
    def __init__(self, owner: SshServer) -> None:
        self._owner = owner
        self._conn: asyncssh.SSHServerConnection | None = None

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self._conn = conn
        self._owner.connections.add(conn)
        self._owner.accepted += 1

    def connection_lost(self, exc: Exception | None) -> None:
        if self._conn is not None:
            self._owner.connections.discard(self._conn)

    def connection_requested(
        self, dest_host: str, dest_port: int, orig_host: str, orig_port: int
    ) -> bool:
        """Local port forwarding is allowed, as OpenSSH's AllowTcpForwarding default is."""
        self._owner.forwards.append((dest_host, dest_port))
        return True


class SshServer:
    """One SSH server: a fixed address, port and host key across stop() and start()."""

    def __init__(
        self,
        host: str,
        client_keys: Sequence[asyncssh.SSHKey],
        *,
        port: int | None = None,
        host_key: asyncssh.SSHKey | None = None,
    ) -> None:
        self.host = host
        self.port = port or free_port(host)
        self.host_key = host_key or new_key()
        self.client_keys = list(client_keys)
        self.accepted = 0  # connections accepted over the server's life
        self.connections: set[asyncssh.SSHServerConnection] = set()
        self.children: set[asyncio.subprocess.Process] = set()
        self.commands: list[str] = []  # every command line run, as `ps` on a node would see
        self.forwards: list[tuple[str, int]] = []  # every (host, port) a client tunnelled to
        self._acceptor: asyncssh.SSHAcceptor | None = None
        self._sessions: set[asyncio.Task[None]] = set()

    @property
    def running(self) -> bool:
        return self._acceptor is not None

    async def start(self) -> None:
        authorized = "".join(
            k.export_public_key("openssh").decode().strip() + "\n" for k in self.client_keys
        )
        self._acceptor = await asyncssh.listen(
            self.host,
            self.port,
            server_host_keys=[self.host_key],
            authorized_client_keys=asyncssh.import_authorized_keys(authorized),
            server_factory=lambda: _Counter(self),
            process_factory=self._session,
            encoding=None,
            password_auth=False,
            kbdint_auth=False,
            reuse_address=True,
            keepalive_interval=0,
        )

    async def stop(self) -> None:
        """Close the listener, drop every connection at once and kill what they ran."""
        if self._acceptor is not None:
            self._acceptor.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._acceptor.wait_closed(), 5)
            self._acceptor = None
        for conn in list(self.connections):
            conn.abort()
        self.connections.clear()
        for proc in list(self.children):
            await _kill_group(proc)
        for task in list(self._sessions):
            task.cancel()
        for task in list(self._sessions):
            with contextlib.suppress(BaseException):
                await task

    async def restart(self, *, new_host_key: bool = False) -> None:
        await self.stop()
        if new_host_key:
            self.host_key = new_key()
        await self.start()

    def _session(self, process: asyncssh.SSHServerProcess[bytes]) -> None:
        task = asyncio.get_running_loop().create_task(self._run(process))
        self._sessions.add(task)
        task.add_done_callback(self._sessions.discard)

    async def _run(self, process: asyncssh.SSHServerProcess[bytes]) -> None:
        command = process.command
        if not command:
            process.stderr.write(b"this test server runs commands only\n")
            process.exit(1)
            return
        self.commands.append(command)
        proc = await asyncio.create_subprocess_shell(
            command,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,
        )
        self.children.add(proc)
        assert proc.stdout is not None and proc.stderr is not None
        copies: asyncio.Future[Any] = asyncio.gather(
            self._copy(proc.stdout, process.stdout), self._copy(proc.stderr, process.stderr)
        )
        # Mark the outcome seen even when the loop is torn down around us (a bench's exit).
        copies.add_done_callback(lambda f: f.cancelled() or f.exception())
        closed: asyncio.Future[Any] = asyncio.ensure_future(process.wait_closed())
        assert proc.stdin is not None
        # Every stream is copied by hand: redirecting stdout/stderr loses their tail, and a
        # redirected stdin writing to a child that already exited raises BrokenPipeError in
        # an asyncssh task, which tears down the whole connection (sshd just drops it).
        feeder = asyncio.ensure_future(self._feed(process.stdin, proc))
        try:
            await asyncio.wait({copies, closed}, return_when=asyncio.FIRST_COMPLETED)
            if not closed.done():
                code = await proc.wait()
                process.exit(code if code >= 0 else 128 - code)
                await asyncio.wait_for(closed, 5)
        except (asyncssh.Error, OSError, asyncio.TimeoutError):
            pass
        finally:
            # However it ended (client gone, server stopped), end what it started, like sshd.
            await _kill_group(proc)
            for fut in (copies, closed, feeder):
                fut.cancel()
                with contextlib.suppress(BaseException):
                    await fut
            self.children.discard(proc)

    @staticmethod
    async def _feed(src: asyncssh.SSHReader[bytes], proc: asyncio.subprocess.Process) -> None:
        dst = proc.stdin
        assert dst is not None
        broken = False
        while True:
            try:
                chunk = await src.read(65536)
            except asyncssh.SignalReceived as sig:  # the client's terminate() and friends
                number = getattr(signal, f"SIG{sig.signal}", signal.SIGTERM)
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, number)
                continue
            except (asyncssh.Error, OSError, asyncssh.BreakReceived):
                break
            if not chunk:
                break
            if broken:
                continue  # keep draining so the client's writes never stall
            try:
                dst.write(chunk)
                await dst.drain()
            except (ConnectionError, OSError):
                broken = True
        with contextlib.suppress(ConnectionError, OSError):
            dst.close()

    @staticmethod
    async def _copy(src: asyncio.StreamReader, dst: asyncssh.SSHWriter[bytes]) -> None:
        while True:
            chunk = await src.read(65536)
            if not chunk:
                return
            dst.write(chunk)


class SshCluster:
    """Several servers sharing one client key, with files a ClusterConfig can point at."""

    def __init__(self, workdir: Path, hosts: Sequence[str], ports: Sequence[int] | None = None):
        self.workdir = workdir
        self.client_key = new_key()
        self.identity = write_key(self.client_key, workdir / "id_ed25519")
        self.known_hosts = workdir / "known_hosts"
        ports = ports or [0] * len(hosts)
        self.servers = [
            SshServer(h, [self.client_key], port=p or None)
            for h, p in zip(hosts, ports, strict=True)
        ]

    async def start(self) -> None:
        await asyncio.gather(*(s.start() for s in self.servers))
        write_known_hosts(self.known_hosts, self.servers)

    async def stop(self) -> None:
        await asyncio.gather(*(s.stop() for s in self.servers))

    def config_yaml(
        self,
        *,
        interval: float = 1.0,
        python: str = "python3",
        policy: str = "strict",
        known_hosts: Path | None = None,
        names: Sequence[str] | None = None,
    ) -> str:
        names = names or [f"n{i + 1}" for i in range(len(self.servers))]
        lines = [
            "name: test-ssh",
            f"sample_interval: {interval}",
            "ssh:",
            f"  host_key_policy: {policy}",
            f"  known_hosts: {known_hosts or self.known_hosts}",
            "  connect_timeout: 5",
            "  command_timeout: 20",
            "  use_ssh_config: false",
            "nodes:",
        ]
        for i, (name, server) in enumerate(zip(names, self.servers, strict=True)):
            lines += [
                f"  - name: {name}",
                f"    host: {server.host}",
                f"    port: {server.port}",
                f"    user: {USER}",
                f"    identity: {self.identity}",
                f"    python: {python}",
                f"    role: {'head' if i == 0 else 'worker'}",
            ]
        return "\n".join(lines) + "\n"
