"""The console's driver process speaks typed requests, checked here without Ray: its real
loop (driver_main.serve) on a real socket pair, each request a method of the client it
names, every failure back as the GridError it was, a transfer job held by the driver."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from multiprocessing.connection import Connection
from pathlib import Path

import pytest

from gridtui.config import ClusterConfig
from gridtui.errors import GridError
from gridtui.services.control.client import BadRequest, ControlClient
from gridtui.services.memory.client import MemoryInputError, MemoryService
from gridtui.services.ray.driver_calls import JobStep, OnControl, on_control, on_memory
from gridtui.services.ray.driver_link import HostLink
from gridtui.services.ray.driver_main import serve
from gridtui.services.ray.driver_stubs import DriverMemory


@pytest.fixture
def link() -> Iterator[HostLink]:
    config = ClusterConfig.model_validate(
        {"name": "lab", "nodes": [{"name": "head", "host": "127.0.0.2"}]}
    )
    mine, theirs = socket.socketpair()
    driver = threading.Thread(target=serve, args=(Connection(theirs.detach()),), daemon=True)
    driver.start()
    host_link = HostLink(config)
    host_link._conn = Connection(mine.detach())
    host_link._conn.send(config)
    yield host_link
    host_link.kill()
    driver.join(5)
    assert not driver.is_alive()


def test_a_client_method_runs_in_the_driver_and_its_refusal_comes_back_typed(
    link: HostLink,
) -> None:
    with pytest.raises(BadRequest, match="unknown node 'nowhere' \\(known: head\\)") as caught:
        link.call(on_control("console", ControlClient.boost, "nowhere", "cpu", "1"))
    assert caught.value.exit_code == 2


def test_only_a_public_method_of_the_named_client_is_run(link: HostLink) -> None:
    with pytest.raises(GridError, match="does not answer 'getcwd'"):
        link.call(OnControl("console", os.getcwd, (), {}))
    with pytest.raises(GridError, match="does not answer '_raw'"):
        link.call(OnControl("console", ControlClient._raw, (None, None), {}))
    with pytest.raises(GridError, match="does not answer"):
        link.call("snapshot")  # type: ignore[arg-type]


def test_a_job_lives_in_the_driver_until_it_ends(link: HostLink, tmp_path: Path) -> None:
    memory = DriverMemory(link)
    with pytest.raises(MemoryInputError):
        memory.store_job("k", tmp_path / "missing")
    source = tmp_path / "data"
    source.write_bytes(b"x" * 10)
    job = memory.store_job("k", source)
    job.abort()  # nothing was sent: no Ray needed to drop it
    with pytest.raises(GridError, match="the transfer is gone"):
        link.call(JobStep(1))
    with pytest.raises(GridError, match="could not send its answer"):  # a job stays there
        link.call(on_memory(MemoryService.store_job, "k", source))
