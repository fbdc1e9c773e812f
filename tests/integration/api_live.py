"""`gridtui serve` as its own process on loopback, with an operator and a read-only token."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from gridtui.services.api_tokens import TokenStore


class LiveApi:
    """Started with the environment of the caller (state dir, cluster lookup): `url`,
    `operator` and `reader` clients; `close()` stops it by its pid."""

    def __init__(self, cwd: Path, *args: str) -> None:
        store = TokenStore()
        suffix = os.urandom(3).hex()
        self.op_token = store.create("operator", f"test-op-{suffix}")[1]
        self.ro_token = store.create("read-only", f"test-ro-{suffix}")[1]
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gridtui", *args, "serve", "--port", "0"],
            cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert self.proc.stderr is not None
        seen = []
        deadline = time.monotonic() + 90
        while True:
            line = self.proc.stderr.readline()
            seen.append(line)
            found = re.search(r"on (http://127\.0\.0\.1:\d+)", line)
            if found:
                self.url = found.group(1)
                break
            assert line and time.monotonic() < deadline, "".join(seen)
        self.log = seen
        # Keep reading its stderr, so a chatty server never blocks on a full pipe.
        threading.Thread(target=self._drain, daemon=True).start()
        self.operator = self.client(self.op_token)
        self.reader = self.client(self.ro_token)
        self._wait_for_ray()

    def _drain(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.log.append(line)

    def client(self, token: str | None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=120)

    def _wait_for_ray(self) -> None:
        """Until the server's own driver is up (it connects after it starts listening)."""
        deadline = time.monotonic() + 90
        while self.operator.get("/boosts").status_code == 503:
            assert time.monotonic() < deadline, "the server never reached Ray"
            time.sleep(0.2)

    def close(self) -> None:
        self.operator.close()
        self.reader.close()
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
