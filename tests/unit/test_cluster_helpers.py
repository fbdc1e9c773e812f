"""The lifecycle's own logic on local nodes: advice, reports, versions, tokens, plans, lookup."""

from __future__ import annotations

import os
import stat
import sys
import tempfile
from pathlib import Path

import pytest

from gridtui.config import ClusterConfig, parse_config
from gridtui.model.operations import Operation, ShellExit
from gridtui.services.cluster import advice, lookup, node_token
from gridtui.services.cluster import node_commands as commands
from gridtui.services.cluster.console_ops import ClusterControl, run_interactive
from gridtui.services.cluster.lifecycle import ClusterOps
from gridtui.services.cluster.procs import RayProcess
from gridtui.services.cluster.reports import (
    ClusterError,
    NodeProgress,
    StartReport,
    describe_failures,
    log_lines,
)
from gridtui.services.cluster.versions import Versions, console_versions, target_versions
from gridtui.services.ray import auth as ray_auth
from gridtui.transport.factory import make_transports


@pytest.fixture(autouse=True)
def own_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Tokens and the demo's state go to this test's own directories."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("GRIDTUI_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)


def local_cluster(tmp_path: Path, extra: str = "", python: str = sys.executable) -> ClusterConfig:
    return parse_config(
        f"name: lab\n"
        f"ray: {{temp_dir: '{tmp_path}/ray'{extra}}}\n"
        "nodes:\n"
        f"  - {{name: head, host: 127.0.0.2, transport: local, role: head, python: '{python}'}}\n"
        f"  - {{name: w1, host: 127.0.0.3, transport: local, python: '{python}'}}\n"
    )


# -- advice and reports ----------------------------------------------------------------------


def test_messages_name_their_node_once() -> None:
    assert advice.about("w1", "no route") == "w1: no route"
    assert advice.about("w1", "w1: no route") == "w1: no route"
    assert advice.about("w1", "w10: no route") == "w1: w10: no route"


def test_advice_fits_the_cause_and_is_never_repeated() -> None:
    assert advice.advised("w1: Ray 2.0", "ray-version") == (
        "w1: Ray 2.0; run `gridtui cluster install`"
    )
    said = "w1: Ray missing; run `gridtui cluster install`"
    assert advice.advised(said, "ray-missing") == said
    assert advice.advised("w1: odd", "no-such-cause") == "w1: odd"
    assert set(advice.ADVICE) >= advice.INSTALLABLE


def test_a_failed_start_is_described_with_each_nodes_last_log_lines() -> None:
    report = StartReport(started=["head"], failed={"w1": "did not join the cluster"})
    report.logs["w1"] = {"raylet.out": [f"line {i}" for i in range(9)], "gcs": []}
    assert not report.ok and StartReport(started=["head"]).ok
    assert log_lines("w1", report.logs["w1"], per_file=2) == [
        "w1 raylet.out: line 7",
        "w1 raylet.out: line 8",
    ]
    assert describe_failures(report) == [
        "w1: did not join the cluster",
        *[f"  w1 raylet.out: line {i}" for i in range(4, 9)],
    ]


def test_a_cluster_error_keeps_one_problem_per_node() -> None:
    error = ClusterError("2 of 3 nodes cannot join", ["w1: a", "w2: b"])
    assert error.summary == "2 of 3 nodes cannot join"
    assert list(error.problems) == ["w1: a", "w2: b"]


# -- versions ---------------------------------------------------------------------------


def test_the_target_is_the_consoles_python_and_the_files_ray() -> None:
    minor, ray = console_versions()
    assert minor == "{}.{}".format(*sys.version_info[:2]) and ray
    plain = parse_config("nodes: [{name: a, host: h}]")
    pinned = parse_config("ray: {version: 9.9.9}\nnodes: [{name: a, host: h}]")
    assert target_versions(plain) == (minor, ray)
    assert target_versions(pinned) == (minor, "9.9.9")


async def test_a_local_node_with_this_python_matches(tmp_path: Path) -> None:
    config = local_cluster(tmp_path)
    seen: list[NodeProgress] = []
    async with ClusterOps(config, progress=seen.append) as ops:
        found = await ops.check_versions()
    assert [v.node for v in found] == ["head", "w1"]
    assert all(v.problem == "" and v.executable for v in found)
    assert (found[0].ray, found[0].python.rsplit(".", 1)[0]) == (
        console_versions()[1],
        console_versions()[0],
    )
    steps = {(p.node, p.state) for p in seen if p.step == "check"}
    assert steps == {("head", "running"), ("head", "ok"), ("w1", "running"), ("w1", "ok")}


async def test_another_ray_is_advised_install_and_stops_the_check(tmp_path: Path) -> None:
    config = local_cluster(tmp_path, extra=", version: 0.0.1")
    transports = make_transports(config)
    said: list[tuple[str, ...]] = []
    versions = Versions(config, transports, lambda *args: said.append(args))
    one = await versions.node_version(config.head)
    assert one.cause == "ray-version"
    assert one.problem.startswith(f"head: Ray {console_versions()[1]} (console: 0.0.1) at ")
    assert one.problem.endswith("; run `gridtui cluster install`")
    assert said[-1][:3] == ("head", "check", "failed")
    with pytest.raises(ClusterError) as err:
        await versions.check()
    assert err.value.summary == "2 of 2 nodes cannot join (nothing was started)"
    assert [p.split(":")[0] for p in err.value.problems] == ["head", "w1"]


async def test_a_missing_python_is_told_from_a_missing_env(tmp_path: Path) -> None:
    explicit = local_cluster(tmp_path, python=str(tmp_path / "no" / "python"))
    versions = Versions(explicit, make_transports(explicit), lambda *args: None)
    found = await versions.node_version(explicit.head)
    assert found.cause == "no-python"
    assert "set the node's `python:`" in found.problem
    default = parse_config(
        f"ray: {{venv: '{tmp_path}/venv'}}\nnodes: [{{name: a, host: 127.0.0.1, transport: local}}]"
    )
    versions = Versions(default, make_transports(default), lambda *args: None)
    found = await versions.node_version(default.head)
    assert found.cause == "venv-missing"
    assert found.problem == (
        f"a: no Python at {tmp_path}/venv/bin/python; run `gridtui cluster install` "
        "(it creates the env)"
    )


# -- the token on nodes -------------------------------------------------------------------


def test_a_node_running_other_auth_clashes(tmp_path: Path) -> None:
    config = local_cluster(tmp_path)

    def raylet(auth: str | None) -> RayProcess:
        return RayProcess(1, 0, 0, "raylet", "raylet", auth)

    clashes = node_token.auth_clashes(
        config,
        {"head": [raylet("token")], "w1": [raylet("disabled")], "w2": [raylet(None)]},
    )
    assert clashes == [
        "w1: Ray runs with RAY_AUTH_MODE disabled, the cluster file wants token: stop it "
        "(gridtui cluster stop) and start again"
    ]


def test_no_token_here_for_a_running_cluster_is_refused(tmp_path: Path) -> None:
    config = local_cluster(tmp_path)
    with pytest.raises(ray_auth.RayAuthError, match=r"Ray runs on w1 but this machine has no"):
        node_token.local_token(config, ["w1"])
    assert not ray_auth.token_file(config).exists()  # nothing made on a refusal
    token = node_token.local_token(config, [])
    assert token and node_token.local_token(config, ["w1"]) == token  # made once, then kept
    off = local_cluster(tmp_path, extra=", auth: disabled")
    assert node_token.local_token(off, ["w1"]) is None


async def test_the_token_reaches_every_node_at_mode_600(tmp_path: Path) -> None:
    config = local_cluster(tmp_path)
    (tmp_path / "ray").mkdir()
    said: list[tuple[str, str, str, str]] = []
    missed = await node_token.send_tokens(
        config, make_transports(config), "s3cret", lambda *a: said.append(a)
    )
    assert missed == {}
    for node in config.nodes:
        path = commands.node_token_path(node, config)
        with open(path) as f:  # noqa: ASYNC230 (a test's own small read)
            assert f.read() == "s3cret"
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert {s[0] for s in said} == {"head", "w1"}
    assert await node_token.send_tokens(config, make_transports(config), None, print) == {}


# -- the console's cluster operations ----------------------------------------------------------


def control(config: ClusterConfig, changed: list[int]) -> ClusterControl:
    return ClusterControl(
        config, lambda progress: ClusterOps(config, progress=progress), lambda: changed.append(1)
    )


def test_plans_name_the_nodes_and_what_will_happen(tmp_path: Path) -> None:
    config = local_cluster(tmp_path)
    plans = control(config, [])
    start = plans.plan(Operation("start"))
    assert (start.title, start.nodes, start.verb) == ("Start Ray on lab?", ("head", "w1"), "Start")
    assert start.steps == ("check", "start", "join") and start.label == "Starting Ray on every node"
    assert "copy the cluster's Ray token to each node (mode 600);" in start.lines
    head = plans.plan(Operation("stop", "head"))
    assert head.nodes == ("head",) and "the whole cluster loses its GCS" in head.lines[0]
    assert f"by PID (processes under {tmp_path}/ray/head)" in head.lines[1]
    worker = plans.plan(Operation("stop", "w1"))
    assert "(a worker)" in worker.lines[0]
    assert plans.plan(Operation("stop")).title == "Stop the whole Ray cluster lab?"
    install = plans.plan(Operation("install"))
    assert install.title == f"Install Ray {console_versions()[1]} on lab?"
    off = control(local_cluster(tmp_path, extra=", auth: disabled"), []).plan(Operation("start"))
    assert "no Ray token: ray.auth is disabled in the cluster file;" in off.lines


async def test_stopping_a_cluster_that_runs_nothing_is_an_outcome(tmp_path: Path) -> None:
    changed: list[int] = []
    outcome = await control(local_cluster(tmp_path), changed).run(Operation("stop"))
    assert (outcome.ok, outcome.text) == (True, "Stopped Ray on every node (0 processes)")
    assert changed == [1]  # Ray's view is re-read after every operation


async def test_a_refused_operation_is_a_failed_outcome_not_a_raise(tmp_path: Path) -> None:
    changed: list[int] = []
    long = await control(local_cluster(tmp_path), changed).run(Operation("start"))
    assert (long.ok, long.text) == (
        False,
        "the cluster file cannot start Ray (nothing was started)",
    )
    with tempfile.TemporaryDirectory(prefix="gt", dir="/tmp") as short:  # fits Ray's sockets
        config = local_cluster(Path(short), extra=", version: 0.0.1")
        old = await control(config, changed).run(Operation("start"))
    assert (old.ok, old.text) == (False, "2 of 2 nodes cannot join (nothing was started)")
    assert changed == [1, 1]


def test_a_shell_keeps_its_last_error_line(capfd: pytest.CaptureFixture[str]) -> None:
    script = "echo first >&2; echo 'the last word' >&2; echo 'Connection to x closed.' >&2; exit 3"
    ended = run_interactive(["sh", "-c", script], capture_stderr=True)
    assert ended == ShellExit(3, "the last word") and not ended.ok
    assert "first" in capfd.readouterr().err  # still shown as it came
    assert run_interactive(["sh", "-c", "exit 130"], capture_stderr=False).ok


# -- which cluster a headless command acts on -----------------------------------------------


def test_the_lookup_takes_a_file_else_says_there_is_none(tmp_path: Path) -> None:
    with pytest.raises(lookup.NoCluster) as err:
        lookup.find_cluster()
    assert err.value.exit_code == 2 and str(err.value).startswith("no cluster file")
    assert not lookup.demo_running()
    (tmp_path / "gridtui.yaml").write_text("nodes: [{name: a, host: h}]\n")
    found = lookup.find_cluster()
    assert (found.path, found.demo, found.config.nodes[0].name) == (
        Path("gridtui.yaml"),
        False,
        "a",
    )
