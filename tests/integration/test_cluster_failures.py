"""Refusals before anything starts: version mismatch, a head that never answers, bad input."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from gridtui.agent import nodescript
from gridtui.config import ClusterConfig, parse_config
from gridtui.services.cluster.lifecycle import ClusterError, ClusterOps

# No Ray starts here (the mismatch stops before any start; the "head" is a fake that hangs),
# on a port no demo takes (6397; the demo's is 6391 up): beside the Ray tests, not in their
# group.


def local_config(temp_root: str, pythons: dict[str, str], port: int = 6397) -> ClusterConfig:
    lines = [
        f"name: t\nray: {{port: {port}, temp_dir: {temp_root}, include_dashboard: false}}\nnodes:"
    ]
    for i, name in enumerate(("n1", "n2", "n3")):
        lines.append(
            f"  - {{name: {name}, host: 127.0.0.{i + 2}, transport: local, "
            f"python: {pythons.get(name, sys.executable)}, resources: {{cpu: 1}}}}"
        )
    return parse_config("\n".join(lines) + "\n")


@pytest.fixture(autouse=True)
def own_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The cluster's Ray token is made in a state dir of the test's own."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


@pytest.fixture
def temp_root() -> Iterator[str]:
    # Short on purpose: Ray's socket paths must fit in 108 bytes.
    root = f"/tmp/gt-{uuid.uuid4().hex[:8]}"
    yield root
    shutil.rmtree(root, ignore_errors=True)


def exists(path: str) -> bool:
    return Path(path).exists()


def script(path: Path, body: str) -> str:
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return str(path)


async def test_version_mismatch_reported_before_anything_starts(
    tmp_path: Path, temp_root: str
) -> None:
    fake = script(
        tmp_path / "oldpython",
        "cat >/dev/null\n"
        'echo \'{"python": "3.10.2", "minor": "3.10", "ray": "2.9.0", "executable": "/old"}\'\n',
    )
    config = local_config(temp_root, {"n2": fake})
    events = []
    async with ClusterOps(config, progress=events.append) as ops:
        with pytest.raises(ClusterError) as err:
            await ops.start()
    assert "nothing was started" in str(err.value)
    # pip cannot change an interpreter's Python: the advice is not `cluster install`.
    assert err.value.problems == [
        "n2: Python 3.10.2 (console: 3.11) and Ray 2.9.0 (console: 2.60.0) at /old; "
        "point the node's `python:` at a Python 3.11"
    ]
    assert {e.node for e in events if e.step == "check" and e.state == "ok"} == {"n1", "n3"}
    assert not any(e.step == "start" for e in events)
    assert not exists(temp_root)  # no node got as far as `ray start`


async def test_head_that_never_answers_times_out_and_leaves_nothing(
    tmp_path: Path, temp_root: str
) -> None:
    # `start` leaves a detached process that names the temp dir (a hung GCS) and reports
    # success; every other use of this "python" is the real one.
    hung = f"{sys.executable} -c 'import time; time.sleep(120)'"
    fake = script(
        tmp_path / "hungpython",
        'if [ "$1" = "-" ] && [ "$2" = "start" ]; then\n'
        "  cat >/dev/null\n"
        f'  setsid {hung} "--temp-dir=$4" </dev/null >/dev/null 2>&1 &\n'
        '  echo \'{"exit": 0, "output": ""}\'\n'
        "  exit 0\n"
        "fi\n"
        f'exec {sys.executable} "$@"\n',
    )
    config = local_config(temp_root, {"n1": fake})
    async with ClusterOps(config, start_timeout=3) as ops:
        with pytest.raises(ClusterError) as err:
            await ops.start(check=False)
    text = str(err.value)
    assert "did not answer within 3s" in text and "nothing is left running" in text
    assert "n1:" in text
    markers = [f"{temp_root}/{n}" for n in ("n1", "n2", "n3")]
    assert nodescript.find_pids(markers)[0] == set()


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gridtui", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
    )


def test_bad_input_is_one_line(tmp_path: Path) -> None:
    missing = run_cli("cluster", "status", "-c", str(tmp_path / "nope.yaml"))
    assert missing.returncode == 2 and "no such file" in missing.stderr
    assert len(missing.stderr.strip().splitlines()) == 1
    path = tmp_path / "c.yaml"
    path.write_text(
        f"nodes:\n  - {{name: a, host: 127.0.0.2, transport: local, python: {sys.executable}}}\n"
    )
    unknown = run_cli("cluster", "stop", "--node", "zz", "-c", str(path))
    assert unknown.returncode == 2
    assert unknown.stderr.strip() == "gridtui: unknown node 'zz' (known: a)"
    nothing = run_cli(
        "cluster", "status", env={"GRIDTUI_CONFIG": "", "XDG_CONFIG_HOME": str(tmp_path)}
    )
    assert nothing.returncode == 2 and "no cluster file" in nothing.stderr
