"""The subcommands' parsers and tables in process: values checked at the prompt, rows aligned."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from gridtui.cli import parse_args
from gridtui.commands import boost_cmd, groups_cmd, job_cmd, node_cmd, work_cmd
from gridtui.config import parse_config
from gridtui.errors import GridError
from gridtui.model.work import GroupBundle, GroupRow, JobRow, WorkItem, WorkSnapshot


def refused(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """The one line a bad word gets (exit 2), before anything else runs."""
    with pytest.raises(SystemExit) as ended:
        parse_args(argv)
    assert ended.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1
    return lines[0]


# -- parsers ------------------------------------------------------------------------------


def test_job_submit_takes_resources_env_and_the_command_after_dashes() -> None:
    args = parse_args(
        ["job", "submit", "--cpu", "1.5", "--memory", "2GiB", "--env", "A=1", "--env", "B=2",
         "--", "python", "-c", "print(1)"]
    )  # fmt: skip
    assert args.func is job_cmd.submit_command
    assert (args.cpu, args.memory, args.env) == (1.5, 2 * 1024**3, ["A=1", "B=2"])
    assert args.command[-3:] == ["python", "-c", "print(1)"] and args.timeout == 60.0


def test_job_submit_refuses_bad_values_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    line = refused(["job", "submit", "--cpu", "-1", "--", "true"], capsys)
    assert line.startswith("gridtui job submit: argument --cpu:")
    assert line.endswith("(see `gridtui job submit --help`)")
    both = refused(["job", "submit", "--node", "a", "--strategy", "spread", "--", "x"], capsys)
    assert "not allowed with argument --node" in both
    assert "--timeout" in refused(["job", "submit", "--timeout", "601", "--", "x"], capsys)


def test_demo_load_bounds_its_load(capsys: pytest.CaptureFixture[str]) -> None:
    args = parse_args(["demo", "load", "--node", "worker-1", "--memory", "300MiB"])
    assert (args.node, args.cpu, args.memory, args.seconds) == ("worker-1", 1.0, 300 * 2**20, 30.0)
    assert "--node" in refused(["demo", "load"], capsys)
    assert "--memory" in refused(["demo", "load", "--node", "head", "--memory", "9GiB"], capsys)
    assert "--seconds" in refused(["demo", "load", "--node", "head", "--seconds", "0"], capsys)


def test_serve_checks_its_port_and_upload_size(capsys: pytest.CaptureFixture[str]) -> None:
    args = parse_args(["serve", "--port", "0", "--max-upload", "1MiB"])
    assert (args.host, args.port, args.max_upload) == ("127.0.0.1", 0, 2**20)
    assert "--port" in refused(["serve", "--port", "70000"], capsys)
    assert "--max-upload" in refused(["serve", "--max-upload", "0"], capsys)


def test_a_token_needs_exactly_one_role(capsys: pytest.CaptureFixture[str]) -> None:
    args = parse_args(["token", "create", "--operator", "--name", "ci"])
    assert (args.operator, args.read_only, args.name) == (True, False, "ci")
    assert "one of the arguments" in refused(["token", "create"], capsys)
    assert "not allowed" in refused(["token", "create", "--operator", "--read-only"], capsys)


def test_boost_sharing_groups_and_node_words_reach_their_commands() -> None:
    boost = parse_args(["boost", "request", "w1", "cpu", "2", "--ttl", "30m"])
    assert (boost.node, boost.type, boost.amount, boost.ttl) == ("w1", "cpu", "2", "30m")
    assert boost.timeout == "30"  # checked where the request enters the services
    share = parse_args(["resource-sharing", "request", "gpu", "1"])
    assert share.strategy and share.func is not boost.func
    remove = parse_args(["groups", "remove", "abc", "--force"])
    assert (remove.func, remove.id, remove.force) == (groups_cmd.remove_command, "abc", True)
    drain = parse_args(["node", "drain", "w1", "--json"])
    assert (drain.func, drain.node, drain.json) == (node_cmd.drain_command, "w1", True)
    assert parse_args(["work", "--node", "w1"]).func is work_cmd.work_command


def test_only_a_known_worker_can_be_drained() -> None:
    config = parse_config("nodes: [{name: h, host: a, role: head}, {name: w1, host: b}]")
    node_cmd.check_worker(config, "w1")
    with pytest.raises(GridError, match=r"^h is the head: it cannot be drained"):
        node_cmd.check_worker(config, "h")
    with pytest.raises(GridError, match=r"unknown node 'zz'"):
        node_cmd.check_worker(config, "zz")


# -- tables -------------------------------------------------------------------------------


def columns(text: str) -> list[int]:
    """Where each header word starts: the rows below must start their cells there too."""
    header = text.splitlines()[0]
    return [i for i, c in enumerate(header) if c != " " and (i == 0 or header[i - 1] == " ")]


def test_empty_tables_say_what_is_missing() -> None:
    assert job_cmd.jobs_table([]) == "no jobs (gridtui job submit -- COMMAND runs one)"
    assert groups_cmd.groups_table([]) == "no placement groups"
    assert groups_cmd.groups_table([], orphans=True) == "no orphaned groups"
    assert boost_cmd.table([], "boost") == "no boosts"
    assert boost_cmd.table([], "share") == "no shared allocations"


def test_the_jobs_table_aligns_and_shortens_long_commands() -> None:
    rows = [
        JobRow("raysubmit_a", "RUNNING", "python " + "x" * 80, "w1", {"CPU": 2.0, "node:1": 1}),
        JobRow("raysubmit_bb", "PENDING", "sleep 1"),
    ]
    text = job_cmd.jobs_table(rows)
    lines = text.splitlines()
    assert lines[0].split() == ["ID", "STATUS", "NODE", "RESOURCES", "START", "END", "ENTRYPOINT"]
    starts = columns(text)
    assert lines[1][starts[1] :].startswith("RUNNING") and lines[2][starts[1] :].startswith("PEND")
    assert lines[1].endswith("x…") and len(lines[1]) - starts[-1] == 60
    assert lines[2].split()[2:5] == ["-", "-", "-"]  # no node, nothing held, never started
    assert "node:" not in text


def test_the_groups_table_marks_orphans() -> None:
    orphan = GroupRow(
        "pg1", "", "job", "0a", "CREATED", "PACK",
        (GroupBundle("w1", {"CPU": 1.0}), GroupBundle("w2", {"CPU": 1.0})),
        detached=True, creator_dead=True,
    )  # fmt: skip
    row = groups_cmd.groups_table([orphan]).splitlines()[1]
    assert "job 0a (orphan)" in row and "w1,w2" in row and row.split()[1] == "-"


def test_work_text_lists_each_node_and_gridtuis_own_apart() -> None:
    snap = WorkSnapshot(
        time=0.0,
        nodes=("head", "w1"),
        items=(
            WorkItem("actor", "a" * 32, "Trainer", "w1", "ALIVE", cpu=1, pid=42, label="t1"),
            WorkItem("actor", "b" * 32, "GridController", "head", "ALIVE", own=True),
        ),
        jobs=(JobRow("raysubmit_a", "RUNNING", "python t.py", "w1"),),
    )
    text = work_cmd.work_text(snap)
    assert text.splitlines()[0] == "jobs:"
    assert "head: nothing running" in text and "w1: 1 running" in text
    assert "Trainer (t1)" in text and "a" * 16 in text and "a" * 17 not in text
    assert text.split("gridtui's own actors:")[1].count("GridController") == 1
    only = work_cmd.work_text(snap, "head")
    assert "w1" not in only and "jobs:" not in only


def test_the_cli_and_the_parser_agree_on_the_config_word(tmp_path: Path) -> None:
    args = parse_args(["job", "list", "-c", str(tmp_path / "c.yaml")])
    assert isinstance(args, argparse.Namespace) and args.config == str(tmp_path / "c.yaml")
