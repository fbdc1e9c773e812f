"""Small pure helpers: XDG paths, cancel-safe waits, the Work view's log files and endpoint."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest

from gridtui import paths
from gridtui.config import parse_config
from gridtui.services import waits
from gridtui.services.ray import auth as ray_auth
from gridtui.services.ray.driver_link import RayUnavailable
from gridtui.services.work import logs
from gridtui.services.work.dashboard import bounded, in_thread
from gridtui.services.work.endpoint import NoDashboard, job_endpoint, require_dashboard
from gridtui.transport.local import LocalTransport

# -- where gridtui keeps its files ----------------------------------------------------------


def test_xdg_directories_win_over_the_home_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    monkeypatch.setenv("XDG_STATE_HOME", "")  # empty: as if unset
    assert paths.config_dir() == tmp_path / ".config" / "gridtui"
    assert paths.state_dir() == tmp_path / ".local" / "state" / "gridtui"
    monkeypatch.setenv("XDG_CONFIG_HOME", "/etc/xdg")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "st"))
    assert paths.config_dir() == Path("/etc/xdg/gridtui")
    assert paths.prefs_file() == tmp_path / "st" / "gridtui" / "prefs.json"


# -- waits a cancel always ends ------------------------------------------------------------


async def test_a_wait_ends_when_woken_and_clears_the_wake() -> None:
    wake = asyncio.Event()
    wake.set()
    await waits.wait_woken(wake, 3600)  # returns at once: it was set
    assert not wake.is_set()
    await waits.wait_woken(wake, 0.01)  # and without a wake, when the time is up
    assert not wake.is_set()


async def test_a_cancel_that_lost_the_race_still_ends_the_loop() -> None:
    started = asyncio.Event()

    async def poll() -> None:
        wake = asyncio.Event()
        started.set()
        while True:
            await waits.wait_woken(wake, 3600)

    task = asyncio.create_task(poll())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    went_on: list[bool] = []

    async def cancelled_before() -> None:
        current = asyncio.current_task()
        assert current is not None
        current.cancel()  # asked to stop, but it has not awaited yet
        waits.raise_if_cancelled()
        went_on.append(True)

    with pytest.raises(asyncio.CancelledError):
        await asyncio.create_task(cancelled_before())
    assert went_on == []
    waits.raise_if_cancelled()  # not asked: nothing happens


# -- a job's log file beside a co-located node ------------------------------------------------


def cluster(tmp_path: Path, extra: str = "") -> str:
    return (
        f"ray: {{temp_dir: '{tmp_path}/ray'{extra}}}\n"
        "nodes:\n"
        "  - {name: here, host: 127.0.0.2, transport: local, role: head}\n"
        "  - {name: loop, host: 127.0.0.3}\n"
        "  - {name: far, host: box.example}\n"
    )


def test_a_job_log_is_read_only_on_this_machine(tmp_path: Path) -> None:
    config = parse_config(cluster(tmp_path))
    for node in ("here", "loop", "far"):
        log = tmp_path / "ray" / node / "session_latest" / "logs" / "job-driver-raysubmit_1.log"
        log.parent.mkdir(parents=True)
        log.write_text("hello\n")
    assert logs.local_log(config, "here", "raysubmit_1") == (
        tmp_path / "ray/here/session_latest/logs/job-driver-raysubmit_1.log"
    )
    assert logs.local_log(config, "loop", "raysubmit_1") is not None  # 127.*: this machine
    assert logs.local_log(config, "far", "raysubmit_1") is None  # through Ray instead
    assert logs.local_log(config, "nobody", "raysubmit_1") is None
    assert logs.local_log(config, "", "raysubmit_1") is None
    assert logs.local_log(config, "here", "raysubmit_2") is None  # no such file
    for sid in ("../raysubmit_1", ".hidden", "a/b"):  # a submission id never names a path
        assert logs.local_log(config, "here", sid) is None


def test_following_a_log_keeps_the_last_lines_after_the_end(tmp_path: Path) -> None:
    path = tmp_path / "job.log"
    path.write_text("one\n")
    ended = threading.Event()
    chunks: list[str] = []

    def writer() -> None:
        with path.open("a") as f:
            f.write("two\n")
            f.flush()
            f.write("three\n")
        ended.set()

    reader = logs.follow(path, ended.is_set, threading.Event())
    chunks.append(next(reader))
    threading.Thread(target=writer).start()
    chunks.extend(reader)
    assert "".join(chunks) == "one\ntwo\nthree\n"
    assert logs.read(path) == "one\ntwo\nthree\n"


def test_following_stops_when_asked(tmp_path: Path) -> None:
    path = tmp_path / "job.log"
    path.write_text("")
    stop = threading.Event()
    stop.set()
    assert list(logs.follow(path, lambda: False, stop)) == []


# -- Ray's dashboard from here ----------------------------------------------------------


async def test_the_endpoint_carries_the_clusters_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    config = parse_config(cluster(tmp_path, ", dashboard_port: 18265"))
    ray_auth.ensure_token(config)
    head = LocalTransport(config.head)
    endpoint, forward = await job_endpoint(config, head)
    assert endpoint.address == "http://127.0.0.1:18265"
    assert endpoint.headers == {"Authorization": f"Bearer {ray_auth.read_token(config)}"}
    await forward.close()
    off = parse_config(cluster(tmp_path, ", auth: disabled"))
    endpoint, _ = await job_endpoint(off, head)
    assert endpoint.headers == {}


def test_no_dashboard_is_said_before_anything_is_reached(tmp_path: Path) -> None:
    config = parse_config(cluster(tmp_path, ", include_dashboard: false"))
    with pytest.raises(NoDashboard, match=r"ray.include_dashboard: false"):
        require_dashboard(config)
    require_dashboard(parse_config(cluster(tmp_path)))


def test_a_bounded_call_answers_raises_or_gives_up() -> None:
    assert bounded(lambda: 42, 30, "job server") == 42
    with pytest.raises(KeyError):
        bounded(lambda: {}["x"], 30, "job server")
    never = threading.Event()
    try:
        with pytest.raises(RayUnavailable, match=r"^Ray's state API did not answer in 0.05s$"):
            bounded(never.wait, 0.05, "state API")
    finally:
        never.set()  # lets the abandoned thread end


async def test_a_call_in_its_own_thread_is_awaited() -> None:
    assert await in_thread(lambda: threading.current_thread().name) == "ray-http-call"
    with pytest.raises(ZeroDivisionError):
        await in_thread(lambda: 1 / 0)
