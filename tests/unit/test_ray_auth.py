"""The cluster's Ray token: made private, kept per cluster, and the settings drivers get."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from gridtui.config import ClusterConfig, parse_config
from gridtui.services.cluster.procs import RayProcess
from gridtui.services.cluster.status import build_status
from gridtui.services.ray import auth as ray_auth

CONFIG = """
name: lab
ray: {port: 6400}
nodes:
  - {name: head, host: 10.0.0.1, role: head}
  - {name: w1, host: 10.0.0.2}
"""


@pytest.fixture(autouse=True)
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    return tmp_path / "state" / "gridtui"


def lab(**ray: object) -> ClusterConfig:
    config = parse_config(CONFIG)
    return config.model_copy(update={"ray": config.ray.model_copy(update=ray)})


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_start_makes_one_private_token_per_cluster(state: Path) -> None:
    config = lab()
    path = ray_auth.ensure_token(config)
    assert path.parent == state / "ray-auth" and mode(path) == 0o600
    assert mode(path.parent) == 0o700
    token = ray_auth.read_token(config)
    assert len(token) == 64 and int(token, 16) >= 0  # 256 bits, hex
    assert ray_auth.ensure_token(config) == path and ray_auth.read_token(config) == token
    # The same name on another head is another cluster, with a token of its own.
    other = lab(port=6401)
    assert ray_auth.token_file(other) != path
    ray_auth.ensure_token(other)
    assert ray_auth.read_token(other) != token
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".")]  # no temp left


def test_rotation_replaces_the_token_and_keeps_it_private() -> None:
    config = lab()
    ray_auth.ensure_token(config)
    old = ray_auth.read_token(config)
    path = ray_auth.new_token(config)
    assert ray_auth.read_token(config) != old and mode(path) == 0o600


def test_a_missing_or_shared_token_is_refused_in_one_line() -> None:
    config = lab()
    with pytest.raises(ray_auth.RayAuthError) as info:
        ray_auth.require_token(config)
    assert "no Ray token for this cluster at" in info.value.summary
    assert "gridtui cluster start" in info.value.summary
    path = ray_auth.ensure_token(config)
    path.chmod(0o640)
    with pytest.raises(ray_auth.RayAuthError) as info:
        ray_auth.read_token(config)
    assert "readable by others (mode 640)" in info.value.summary
    assert "rotate-token" in info.value.summary and "\n" not in info.value.summary


def test_drivers_get_both_variables_and_never_an_ambient_token() -> None:
    ambient = {"RAY_AUTH_TOKEN": "x" * 64, "RAY_AUTH_TOKEN_PATH": "/root/.ray/auth_token"}
    config = lab()
    env = ray_auth.driver_env(config, {**ambient, "PATH": "/bin"})
    assert env == {
        "PATH": "/bin",
        "RAY_AUTH_MODE": "token",
        "RAY_AUTH_TOKEN_PATH": str(ray_auth.token_file(config)),
    }
    off = ray_auth.driver_env(lab(auth="disabled"), {**ambient, "PATH": "/bin"})
    assert off == {"PATH": "/bin", "RAY_AUTH_MODE": "disabled"}
    # What a person types before `ray status`: the path, never the token.
    ray_auth.ensure_token(config)
    prefix = ray_auth.shell_prefix(config)
    assert str(ray_auth.token_file(config)) in prefix
    assert ray_auth.read_token(config) not in prefix
    assert ray_auth.http_headers(config) == {
        "Authorization": f"Bearer {ray_auth.read_token(config)}"
    }
    assert ray_auth.http_headers(lab(auth="disabled")) == {}


def test_use_here_checks_the_token_before_touching_the_env(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RAY_AUTH_MODE", "disabled")
    with pytest.raises(ray_auth.RayAuthError):
        ray_auth.use_here(lab())
    assert os.environ["RAY_AUTH_MODE"] == "disabled"


def proc(name: str, auth: str | None) -> RayProcess:
    return RayProcess(1, 0, 0, name, name, auth)


def test_status_reports_the_wish_and_what_each_node_runs() -> None:
    config = lab()
    procs = {"head": [proc("gcs_server", "token"), proc("raylet", "token")], "w1": []}
    status = build_status(config, procs, [])
    data = status.to_json()
    assert data["ray_auth"] == "token"
    assert data["ray_auth_token_file"] == str(ray_auth.token_file(config))
    rows = {r["name"]: r for r in data["nodes"]}
    assert rows["head"]["ray_auth"] == "token" and rows["head"]["problem"] == ""
    assert rows["w1"]["ray_auth"] is None
    # A node whose Ray was started without auth (an older gridtui, by hand) is named.
    stale = build_status(config, {"head": [proc("raylet", "disabled")], "w1": []}, [])
    row = stale.rows[0]
    assert row.ray_auth == "disabled" and not row.healthy
    assert row.problem.startswith("head: Ray runs with RAY_AUTH_MODE disabled")
    off = build_status(lab(auth="disabled"), procs, []).to_json()
    assert off["ray_auth"] == "disabled" and off["ray_auth_token_file"] is None
    assert "anyone who reaches" in build_status(lab(auth="disabled"), {}, []).table()


def test_a_refused_driver_is_told_which_token_it_sent() -> None:
    from gridtui.services.ray.gateway import _refusal

    config = lab()
    buried = RuntimeError(
        "Failed to connect to GCS. Last connection error: Traceback (most recent call last):"
        "\nray.exceptions.AuthenticationError: RPC error: InvalidAuthToken: Authentication "
        "token is missing or incorrect. Ensure that the token ..."
    )
    try:
        raise ConnectionError("Failed to connect to Ray cluster at 10.0.0.1:6400") from buried
    except ConnectionError as exc:
        line = _refusal(exc, config)
    assert line.startswith("Ray refused this driver: Authentication token is missing or incorrect")
    assert f"it sent the token in {ray_auth.token_file(config)}" in line and "\n" not in line
    assert _refusal(ConnectionError("the GCS did not answer"), config) == ""
