"""Exit codes and options: every numeric option is range-checked by one helper, every bad
usage is one line and exit 2, and every command follows the one exit-code table (class 6)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pytest

from gridtui import cli
from gridtui.cli import build_parser, main
from gridtui.commands import config_cmd

# (argv, the option named in the one line).
BAD_OPTIONS = [
    (["cluster", "start", "--timeout", "-1"], "--timeout: -1 is out of range: expected a number from 1 to 3600 seconds"),
    (["cluster", "start", "--timeout", "nan"], "--timeout: nan is not a finite number: expected a number from 1 to 3600 seconds"),
    (["cluster", "start", "--timeout", "inf"], "--timeout: inf is not a finite number"),
    (["cluster", "start", "--timeout", "0"], "--timeout: 0 is out of range"),
    (["cluster", "start", "--timeout", "1e9"], "--timeout: 1e9 is out of range"),
    (["cluster", "start", "--timeout", "soon"], "--timeout: expected a number from 1 to 3600 seconds, got 'soon'"),
    (["cluster", "status", "--timeout", "-1"], "--timeout: -1 is out of range: expected a number from 1 to 600 seconds"),
    (["cluster", "status", "--timeout", "nan"], "--timeout: nan is not a finite number"),
    (["cluster", "stop", "--grace", "-1"], "--grace: -1 is out of range: expected a number from 0 to 300 seconds"),
    (["cluster", "stop", "--grace", "nan"], "--grace: nan is not a finite number"),
    (["cluster", "stop", "--grace", "301"], "--grace: 301 is out of range"),
    (["cluster", "logs", "--node", "a", "-n", "-5"], "-n/--lines: -5 is out of range: expected a whole number from 1 to 10000"),
    (["cluster", "logs", "--node", "a", "-n", "0"], "-n/--lines: 0 is out of range"),
    (["cluster", "logs", "--node", "a", "-n", "1.5"], "-n/--lines: expected a whole number from 1 to 10000, got '1.5'"),
    (["cluster", "logs", "--node", "a", "-n", "99999999999999999999999"], "-n/--lines: 99999999999999999999999 is out of range"),
    (["demo", "load", "--node", "head", "--cpu", "0"], "--cpu: 0 is out of range: expected a number above 0 to 64 cores"),
    (["demo", "load", "--node", "head", "--cpu=-inf"], "--cpu: -inf is not a finite number"),
    (["demo", "load", "--node", "head", "--seconds", "0"], "--seconds: 0 is out of range: expected a number above 0 to 3600 seconds"),
    (["demo", "load", "--node", "head", "--seconds", "nan"], "--seconds: nan is not a finite number"),
    (["demo", "load", "--node", "head", "--memory", "-1"], "--memory: '-1' is not a size such as 4GiB or 512MB"),
    (["demo", "load", "--node", "head", "--memory", "1TiB"], "--memory: 1TiB is out of range: expected a size from 0 bytes to 8 GiB"),
    (["--theme", "nope"], "--theme: unknown theme 'nope'; known: "),
    (["-c", ""], "-c/--config: the path is empty"),
    (["config", "check", "-c", ""], "-c/--config: the path is empty"),
    (["cluster", "status", "-c", ""], "-c/--config: the path is empty"),
    (["cluster", "frobnicate"], "argument cluster_command: invalid choice: 'frobnicate'"),
    (["cluster", "status", "--frob"], "unrecognized arguments: --frob"),
    (["cluster", "logs"], "the following arguments are required: --node"),
]  # fmt: skip


@pytest.mark.parametrize(("argv", "problem"), BAD_OPTIONS)
def test_bad_option_is_one_line_and_exit_2(
    argv: list[str], problem: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1, err
    assert err.startswith("gridtui") and problem in err, err
    assert "usage:" not in err and "Traceback" not in err


def test_help_is_exit_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["cluster", "status", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--timeout" in out and "1 to 600" in out
    assert main(["--help"]) == 0
    assert "exit codes: 0 ok, 1 unhealthy or refused by the cluster" in capsys.readouterr().out


def leaf_commands() -> list[tuple[list[str], argparse.ArgumentParser]]:
    """Every runnable command of the CLI, with its parser."""

    def walk(parser: argparse.ArgumentParser, prefix: list[str]) -> list[Any]:
        subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        if not subs:
            return [(prefix, parser)]
        out = []
        for name, child in subs[0].choices.items():
            out += walk(child, [*prefix, name])
        return out

    return walk(build_parser(), [])


def takes_config(parser: argparse.ArgumentParser) -> bool:
    return any("--config" in a.option_strings for a in parser._actions)


def required_args(parser: argparse.ArgumentParser) -> list[str]:
    """A plausible value for every required option, so only the cluster file decides."""
    out = []
    for action in parser._actions:
        if action.required and action.option_strings:
            out += [action.option_strings[0], "1"]
    for action in parser._actions:  # positionals (NODE TYPE AMOUNT, KEY FILE ...) follow
        if not action.option_strings and action.nargs not in ("?", "*"):
            plausible = {"type": "cpu", "node": "a", "key": "k", "file": __file__}
            choice = str(next(iter(action.choices))) if action.choices else None
            out.append(choice or plausible.get(action.dest, "1"))
    return out


def test_every_command_that_reads_a_cluster_file_exits_2_without_a_good_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("nodes:\n  - {name: a, host: h, port: true}\n")
    commands = [(argv, p) for argv, p in leaf_commands() if takes_config(p)]
    assert {" ".join(argv) for argv, _ in commands} >= {
        "config check",
        "cluster install",
        "cluster start",
        "cluster stop",
        "cluster status",
        "cluster logs",
    }
    for argv, parser in commands:
        for path, problem in (
            (tmp_path / "nope.yaml", f"{tmp_path / 'nope.yaml'}: no such file\n"),
            (bad, f"{bad}:2: nodes[0].port: expected a whole number from 1 to 65535, got true\n"),
        ):
            code = main([*argv, "-c", str(path), *required_args(parser)])
            out, err = capsys.readouterr()
            assert (code, out, err) == (2, "", problem), argv


def test_interrupted_is_130(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    def interrupted(args: argparse.Namespace) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(config_cmd, "check_command", interrupted)
    assert main(["config", "check", "-c", str(tmp_path / "c.yaml")]) == cli.EXIT_INTERRUPTED == 130


def test_a_bug_is_one_line_naming_the_log(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))

    def broken(args: argparse.Namespace) -> int:
        raise ZeroDivisionError("oops")

    monkeypatch.setattr(config_cmd, "check_command", broken)
    assert main(["config", "check"]) == 1
    err = capsys.readouterr().err
    log = tmp_path / "gridtui" / "gridtui.log"
    assert err == f"gridtui: internal error: ZeroDivisionError: oops (details in {log})\n"
    assert "Traceback" in log.read_text()
