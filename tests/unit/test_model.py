"""The pure model helpers: sizes for people, and Ray's node table parsed once for all."""

from __future__ import annotations

import pytest

from gridtui.config import parse_config
from gridtui.model.ray import ray_info
from gridtui.model.units import size
from gridtui.services.cluster.status import build_status

MIB, GIB = 1024**2, 1024**3


@pytest.mark.parametrize(
    ("value", "short", "iec"),
    [
        (0, "0B", "0B"),
        (512, "512B", "512B"),
        (1536, "2K", "1.5KiB"),
        (512 * MIB, "512.0M", "512.0MiB"),
        (3.2 * GIB, "3.2G", "3.2GiB"),
        (4 * 1024 * GIB, "4.0T", "4.0TiB"),
        (2048 * 1024 * GIB, "2048.0T", "2048.0TiB"),  # no unit past tebibytes
        (-2048, "-2K", "-2.0KiB"),
    ],
)
def test_size(value: float, short: str, iec: str) -> None:
    assert size(value) == short
    assert size(value, iec=True) == iec


ENTRY = {
    "node_id": "ab" * 28,
    "alive": True,
    "address": "10.0.0.1",
    "labels": {"gridtui.node": "head"},
    "total": {"CPU": 4.0, "GPU": 1.0, "memory": 8.0 * GIB, "object_store_memory": 100.0},
    "available": {"CPU": 1.0, "GPU": 1.0, "memory": 6.0 * GIB, "object_store_memory": 40.0},
    "store_used": 60.0,
}


def test_ray_info_reads_every_figure_once() -> None:
    info = ray_info(ENTRY)
    assert (info.cpu_total, info.cpu_available, info.gpu_total, info.gpu_available) == (
        4.0,
        1.0,
        1.0,
        1.0,
    )
    assert (info.memory_total, info.memory_available) == (8.0 * GIB, 6.0 * GIB)
    assert (info.object_store_total, info.object_store_available, info.store_used) == (
        100.0,
        40.0,
        60.0,
    )
    dead = ray_info({**ENTRY, "alive": False, "store_used": None})
    assert dead.cpu_available == 0.0 and dead.store_used is None


def test_the_cli_status_row_is_the_parsed_ray_info() -> None:
    config = parse_config("name: c\nnodes:\n  - {name: head, host: 10.0.0.1, role: head}\n")
    row = build_status(config, {"head": []}, [ENTRY]).rows[0]
    info = ray_info(ENTRY)
    assert row.ray_state == "ALIVE" and row.node_id == info.node_id
    assert (row.memory_total, row.memory_available) == (info.memory_total, info.memory_available)
    assert (row.store_total, row.store_used) == (info.object_store_total, info.store_used)
    assert "60B/100B" in build_status(config, {"head": []}, [ENTRY]).table()


def test_a_node_ray_drains_is_shown_draining_and_not_healthy() -> None:
    config = parse_config("name: c\nnodes:\n  - {name: head, host: 10.0.0.1, role: head}\n")
    draining = {**ENTRY, "draining": True}
    assert ray_info(draining).draining and ray_info(draining).to_json()["draining"] is True
    assert not ray_info({**draining, "alive": False}).draining  # a dead node drains nothing
    status = build_status(config, {"head": []}, [draining])
    row = status.rows[0]
    assert row.ray_state == "DRAINING" and not row.healthy and not status.healthy
    assert row.cpu_available == 1.0  # its figures still count
    table = status.table().splitlines()
    assert "DRAINING" in table[1] and table[-1] == "cluster c: NOT healthy"
    assert "head: Ray drains it: it takes no new work until Ray restarts on it" in table[-2]
