"""The node agent's readers in this process: /proc against psutil, nvidia-smi, one sample."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import psutil
import pytest

from gridtui.agent import sampler


@pytest.fixture
def no_psutil(monkeypatch: pytest.MonkeyPatch) -> None:
    """A bare node: the agent falls back on /proc."""
    monkeypatch.setattr(sampler, "psutil", None)


def test_memory_from_proc_agrees_with_psutil(no_psutil: None) -> None:
    (total, used), (swap_total, _) = sampler.memory()
    assert total == psutil.virtual_memory().total
    assert swap_total == psutil.swap_memory().total
    assert 0 < used < total


def test_network_counters_from_proc_agree_with_psutil(no_psutil: None) -> None:
    rx, tx = sampler.net_bytes()
    counters = psutil.net_io_counters(pernic=True)
    later_rx = sum(v.bytes_recv for k, v in counters.items() if k != "lo")
    later_tx = sum(v.bytes_sent for k, v in counters.items() if k != "lo")
    # Read second, psutil can only have counted more; loopback is left out of both.
    assert 0 <= rx <= later_rx and 0 <= tx <= later_tx


def test_cpu_from_proc_has_every_core_in_range(no_psutil: None) -> None:
    meter = sampler.CpuMeter()
    sum(range(200_000))  # some jiffies to count
    total, cores = meter.read()
    assert len(cores) == os.cpu_count()
    assert 0.0 <= total <= 100.0 and all(0.0 <= c <= 100.0 for c in cores)
    assert len(sampler.read_proc_stat()) == os.cpu_count() + 1  # the machine, then each core


def test_disk_is_the_root_file_system() -> None:
    total, used = sampler.disk_root()
    assert total == shutil.disk_usage("/").total
    assert 0 <= used <= total


def test_the_ray_count_is_cached_between_scans() -> None:
    counter = sampler.RayCounter()
    counter.REFRESH_SECONDS = 3600.0
    first = counter.read()
    assert first >= 0 and counter.at is not None
    counter.count = -1  # a scan would overwrite this
    assert counter.read() == -1
    counter.at = None  # due again
    assert counter.read() >= 0


FAKE_SMI = """#!/bin/sh
echo "$@" > "{argv}"
echo "0, Fake L4, 37, 2048, 23034, 55"
echo "1, Fake T4, 3, 10.5, 15360, [N/A]"
echo "garbage line"
echo "2, Fake X, not-a-number, 1, 2, 3"
sleep 30
"""


def test_nvidia_smi_lines_become_gpus(tmp_path: Path) -> None:
    """The fallback without NVML: one long-lived nvidia-smi whose CSV lines are parsed."""
    exe, argv = tmp_path / "nvidia-smi", tmp_path / "argv"
    exe.write_text(FAKE_SMI.format(argv=argv))
    exe.chmod(0o755)
    gpus = sampler.SmiGpus(str(exe), 0.05)
    try:
        deadline = time.monotonic() + 20  # a wait, not a timing: the pump is a thread
        while len(gpus.read()) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert gpus.read() == [
            {
                "index": 0,
                "name": "Fake L4",
                "util": 37.0,
                "mem_used": 2048 * 1024 * 1024,
                "mem_total": 23034 * 1024 * 1024,
                "temp": 55.0,
            },
            {
                "index": 1,
                "name": "Fake T4",
                "util": 3.0,
                "mem_used": int(10.5 * 1024 * 1024),
                "mem_total": 15360 * 1024 * 1024,
                "temp": None,
            },
        ]
        words = argv.read_text().split()
        assert words[0] == "--query-gpu=" + sampler.SmiGpus.FIELDS
        assert words[-2:] == ["-lms", "100"]  # never asked faster than every 100 ms
    finally:
        gpus.proc.kill()
        gpus.proc.wait()


def test_one_sample_in_process(capsys: pytest.CaptureFixture[str]) -> None:
    assert sampler.main(["--interval", "0.05", "--count", "2", "--cpus", "2"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["seq"] for line in lines] == [0, 1]
    last = lines[-1]
    assert last["v"] == sampler.AGENT_VERSION and last["scope"] == "host"
    assert last["mem"]["total"] == psutil.virtual_memory().total
    assert len(last["cores"]) == os.cpu_count() and len(last["load"]) == 3
    assert last["ray"]["processes"] >= 0
