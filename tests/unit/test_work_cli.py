"""`gridtui job|work|why|groups` before any cluster is reached: bad input is one line, exit 2,
and nothing is sent (no Ray import, no HTTP request to a dashboard)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from gridtui.cli import main

ROOT = Path(__file__).resolve().parents[2]
LAB = (
    "nodes:\n  - {name: head, host: 127.0.0.2, role: head}\n  - {name: worker-2, host: 127.0.0.4}\n"
)


@pytest.fixture
def lab(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("GRIDTUI_CONFIG", raising=False)
    config = tmp_path / "gridtui.yaml"
    config.write_text(LAB)
    return tmp_path


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["job", "submit", "--node", "worker-2"], "no command: give it after `--`"),
        (["job", "submit", "--node", "worker-2", "--"], "no command: give it after `--`"),
        (["job", "submit", "--node", "box9", "--", "true"],
         "unknown node 'box9' (known: head, worker-2)"),
        (["job", "submit", "--node", "worker-2", "--strategy", "spread", "--", "true"],
         "argument --strategy: not allowed with argument --node"),
        (["job", "submit", "--strategy", "spread", "--boost", "b-1", "--", "true"],
         "--strategy and --boost cannot be combined"),
        (["job", "submit", "--strategy", "fastest", "--", "true"], "unknown strategy 'fastest'"),
        (["job", "submit", "--working-dir", "nope", "--", "true"],
         "--working-dir nope does not exist"),
        (["job", "submit", "--memory", "lots", "--", "true"], "argument --memory"),
        (["job", "submit", "--env", "=x", "--", "true"], "--env takes NAME=VALUE"),
        (["work", "--node", "box9"], "unknown node 'box9'"),
    ],
)  # fmt: skip
def test_bad_input_is_one_line_and_exit_2(
    lab: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert message in err[-1], err
    assert not any("Traceback" in line for line in err)


def test_a_refused_submission_never_imports_ray(lab: Path) -> None:
    code = (
        "import sys; from gridtui.cli import main; "
        "rc = main(['job', 'submit', '--node', 'box9', '--', 'true']); print(rc, 'ray' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=lab, timeout=60)  # fmt: skip
    assert out.stdout.split() == ["2", "False"], out.stderr


def test_a_cluster_without_the_dashboard_says_so(
    lab: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (lab / "gridtui.yaml").write_text(LAB + "ray: {include_dashboard: false}\n")
    assert main(["job", "list"]) == 1
    assert "runs without Ray's dashboard" in capsys.readouterr().err
