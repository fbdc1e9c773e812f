"""`gridtui boost` and `resource-sharing` before any cluster is reached: lookup and refusals."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from gridtui.cli import main
from gridtui.services.cluster.lookup import NO_CLUSTER

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def nowhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No cluster file anywhere in the lookup and no demo state."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("GRIDTUI_CONFIG", raising=False)
    return tmp_path


def last_line(capsys: pytest.CaptureFixture[str]) -> str:
    return capsys.readouterr().err.strip().splitlines()[-1]


@pytest.mark.parametrize(
    "argv",
    [
        ["boost", "request", "worker-1", "cpu", "1"],
        ["boost", "status"],
        ["boost", "release", "b1"],
        ["resource-sharing", "request", "cpu", "1"],
        ["resource-sharing", "status", "--json"],
    ],
)
def test_no_cluster_file_and_no_demo_is_exit_2(
    nowhere: Path, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    assert main(argv) == 2
    assert last_line(capsys) == f"gridtui: {NO_CLUSTER}"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["boost", "request", "a", "ram", "1"], "unknown type 'ram' (one of: cpu, gpu, memory)"),
        (["boost", "request", "a", "cpu", "inf"], "amount must be finite"),
        (["boost", "request", "a", "gpu", "0"], "amount must be positive, not 0"),
        (["boost", "request", "a", "memory", "12"], "memory amount '12' is under 1 MiB"),
        (["boost", "request", "a", "cpu", "1", "--ttl", "soon"], "TTL 'soon' is not a duration"),
        (["boost", "request", "a", "cpu", "1", "--timeout", "0"], "timeout must be more than 0"),
        (["boost", "request", "a", "cpu", "1", "--timeout", "1e8"], "timeout must be more than 0"),
        (["boost", "request", "a", "cpu", "1", "--ttl", ""], "TTL is empty"),
        (["boost", "request", "a", "cpu", "1", "--ttl", "90d"], "TTL '90d' is over the limit"),
        (["resource-sharing", "request", "cpu", "1", "--timeout", "x"], "timeout 'x' is not a"),
        (
            ["resource-sharing", "request", "cpu", "1", "--strategy", "fast"],
            "unknown strategy 'fast'",
        ),
        (["resource-sharing", "request", "memory", "-1"], "amount must be positive, not -1"),
    ],
)
def test_malformed_requests_are_exit_2_before_any_lookup(
    nowhere: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert main(argv) == 2
    assert last_line(capsys).startswith(f"gridtui: {message}")


def test_a_node_not_in_the_cluster_file_lists_the_known_ones(
    nowhere: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = nowhere / "lab.yaml"
    config.write_text(
        "nodes:\n  - {name: box1, host: 127.0.0.2}\n  - {name: box2, host: 127.0.0.3}\n"
    )
    assert main(["boost", "request", "-c", str(config), "box9", "cpu", "1"]) == 2
    assert last_line(capsys) == "gridtui: unknown node 'box9' (known: box1, box2)"
    os.environ["GRIDTUI_CONFIG"] = str(config)
    try:
        assert main(["boost", "request", "box9", "cpu", "1"]) == 2
    finally:
        del os.environ["GRIDTUI_CONFIG"]


def test_a_broken_cluster_file_is_reported_with_its_line(
    nowhere: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (nowhere / "gridtui.yaml").write_text("nodes:\n  - {name: box1}\n")
    assert main(["boost", "status"]) == 2
    assert "gridtui.yaml:2" in capsys.readouterr().err


def test_a_refused_request_never_imports_ray(nowhere: Path) -> None:
    code = (
        "import sys; from gridtui.cli import main; "
        "rc = main(['boost', 'request', 'w', 'cpu', 'nan']); print(rc, 'ray' in sys.modules)"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.stdout.split() == ["2", "False"], out.stderr


def test_help_lists_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    try:
        code = main(["--help"])
    except SystemExit as exc:
        code = exc.code
    assert code == 0
    text = capsys.readouterr().out
    assert "boost" in text and "resource-sharing" in text
