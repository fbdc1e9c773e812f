"""Debian's OpenSSH server run by hand on loopback: the server nobody here wrote."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import asyncssh
from sshd import free_port, known_hosts_line, new_key, write_key

SSHD = shutil.which("sshd") or ("/usr/sbin/sshd" if os.path.exists("/usr/sbin/sshd") else None)


class OpenSshServer:
    """`sshd -D -e -f CONFIG` as root, key-only, stopped by PID."""

    def __init__(self, workdir: Path, host: str, client_key: asyncssh.SSHKey) -> None:
        self.workdir = workdir
        self.host = host
        self.port = free_port(host)
        self.host_key = new_key()
        self.client_key = client_key
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        assert SSHD is not None
        self.workdir.mkdir(parents=True, exist_ok=True)
        host_key = write_key(self.host_key, self.workdir / "ssh_host_ed25519_key")
        authorized = self.workdir / "authorized_keys"
        authorized.write_text(self.client_key.export_public_key("openssh").decode())
        config = self.workdir / "sshd_config"
        config.write_text(
            f"ListenAddress {self.host}:{self.port}\n"
            f"HostKey {host_key}\n"
            f"AuthorizedKeysFile {authorized}\n"
            f"PidFile {self.workdir / 'sshd.pid'}\n"
            "PermitRootLogin prohibit-password\n"
            "PasswordAuthentication no\nKbdInteractiveAuthentication no\n"
            "UsePAM no\nStrictModes no\nMaxSessions 100\nMaxStartups 100\n"
            "AllowTcpForwarding yes\n"
        )
        Path("/run/sshd").mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            [SSHD, "-D", "-e", "-f", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=open(self.workdir / "sshd.log", "wb"),  # noqa: SIM115
            start_new_session=True,
        )
        for _ in range(100):
            if self.proc.poll() is not None:
                raise RuntimeError((self.workdir / "sshd.log").read_text())
            try:
                import socket

                with socket.create_connection((self.host, self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("sshd did not listen")

    def known_hosts_line(self) -> str:
        return known_hosts_line(self.host, self.port, self.host_key)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        import psutil

        # Sessions may setsid() away from the listener's group: end its whole tree.
        for child in psutil.Process(self.proc.pid).children(recursive=True):
            with contextlib.suppress(psutil.Error):
                child.kill()
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(5)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
