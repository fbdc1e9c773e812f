"""Cluster file validation: good files load, every class of bad file names file, line, field."""

from __future__ import annotations

from pathlib import Path

import pytest

from gridtui.cli import main
from gridtui.config import ConfigError, find_config, load_config, parse_config, parse_size

REPO = Path(__file__).resolve().parents[2]

GOOD = """\
name: lab
sample_interval: 0.5
nodes:
  - name: ws
    host: 10.0.0.1
    role: head
    resources: {cpu: 8, gpu: 1, memory: 16GiB, custom: {fast: 1}}
  - name: box1
    host: box1
    port: 2222
    user: me
    identity: ~/.ssh/id_ed25519
ssh:
  host_key_policy: accept-new
ui:
  theme: gridtui-dusk
"""


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(text, "c.yaml")
    return info.value.problems


def test_good_file_loads_with_defaults_and_sizes() -> None:
    config = parse_config(GOOD)
    assert config.name == "lab"
    assert config.head.name == "ws"
    assert config.nodes[0].resources.memory == 16 * 1024**3
    assert config.nodes[1].port == 2222
    assert config.nodes[1].identity == Path.home() / ".ssh/id_ed25519"
    assert config.ssh.host_key_policy == "accept-new"
    assert config.nodes[1].python == "python3"


def test_first_node_is_head_when_none_is_marked() -> None:
    config = parse_config("nodes:\n  - {name: a, host: h1}\n  - {name: b, host: h2}\n")
    assert config.head.name == "a"


@pytest.mark.parametrize("example", sorted((REPO / "config").glob("*.yaml")))
def test_shipped_examples_are_valid(example: Path) -> None:
    assert load_config(example).nodes


def test_out_of_range_port_names_line_and_field() -> None:
    text = "nodes:\n  - name: a\n    host: h\n    port: 70000\n"
    assert problems(text) == [
        "c.yaml:4: nodes[0].port: 70000 is out of range: expected a whole number from 1 to 65535"
    ]


def test_unknown_field_is_reported_at_its_line() -> None:
    text = "nodes:\n  - name: a\n    host: h\n    colour: red\n"
    assert problems(text) == [
        "c.yaml:4: nodes[0].colour: unknown field (check the spelling; see docs/configuration.md)"
    ]


def test_missing_required_field_points_at_the_node() -> None:
    text = "nodes:\n  - name: a\n  - name: b\n    host: h\n"
    (problem,) = problems(text)
    assert problem == "c.yaml:2: nodes[0].host: required field is missing"


def test_every_problem_is_listed_not_just_the_first() -> None:
    text = "sample_interval: -1\nnodes:\n  - name: a\n    host: h\n    port: 0\n    role: boss\n"
    found = problems(text)
    assert [p.split(": ")[0:2] for p in found] == [
        ["c.yaml:1", "sample_interval"],
        ["c.yaml:5", "nodes[0].port"],
        ["c.yaml:6", "nodes[0].role"],
    ]


def test_duplicate_names_and_two_heads_point_at_the_second_node() -> None:
    dup = "nodes:\n  - {name: a, host: h1}\n  - name: a\n    host: h2\n"
    assert problems(dup) == ["c.yaml:3: nodes[1].name: node name 'a' is used twice"]
    heads = (
        "nodes:\n  - {name: a, host: h1, role: head}\n  - name: b\n    host: h2\n    role: head\n"
    )
    assert problems(heads) == ["c.yaml:5: nodes[1].role: only one node can be the head, found a, b"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", '"a;rm -rf ~"'),
        ("name", '"$(reboot)"'),
        ("host", '"-oProxyCommand=sh"'),
        ("host", '"a b"'),
    ],
)
def test_shell_metacharacters_in_names_and_hosts_are_refused(field: str, value: str) -> None:
    node = {"name": "a", "host": "h"}
    node[field] = value
    text = f"nodes:\n  - name: {node['name']}\n    host: {node['host']}\n"
    (problem,) = problems(text)
    assert f"nodes[0].{field}:" in problem


def test_bad_sizes_and_types() -> None:
    text = "nodes:\n  - name: a\n    host: h\n    resources: {cpu: -2, memory: 12 parsecs}\n"
    found = problems(text)
    assert any("nodes[0].resources.cpu: -2 is out of range" in p for p in found)
    assert any("nodes[0].resources.memory" in p and "not a size" in p for p in found)


def test_yaml_syntax_error_names_the_line() -> None:
    assert problems("nodes:\n  - name: a\n   host: [\n")[0].startswith("c.yaml:3: YAML syntax:")


@pytest.mark.parametrize("text", ["", "- a\n- b\n", "nodes: []\n"])
def test_empty_or_wrong_shape(text: str) -> None:
    (problem,) = problems(text)
    assert problem.startswith("c.yaml:1:")


def test_parse_size_units() -> None:
    assert parse_size("512MiB") == 512 * 1024**2
    assert parse_size("1.5GB") == 1_500_000_000
    assert parse_size(100) == 100
    for bad in ("-1GB", "lots", "5 parsecs"):
        with pytest.raises(ValueError):
            parse_size(bad)


def test_lookup_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GRIDTUI_CONFIG", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert find_config() is None
    xdg = tmp_path / "xdg" / "gridtui" / "cluster.yaml"
    xdg.parent.mkdir(parents=True)
    xdg.write_text(GOOD)
    assert find_config() == xdg
    (tmp_path / "gridtui.yaml").write_text(GOOD)
    assert find_config() == Path("gridtui.yaml")
    monkeypatch.setenv("GRIDTUI_CONFIG", "/from/env.yaml")
    assert find_config() == Path("/from/env.yaml")
    assert find_config("explicit.yaml") == Path("explicit.yaml")


def test_config_check_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(GOOD)
    assert main(["config", "check", "-c", str(good)]) == 0
    assert "ok: cluster 'lab', 2 nodes, head ws" in capsys.readouterr().out
    bad = tmp_path / "bad.yaml"
    bad.write_text("nodes:\n  - name: a\n    host: h\n    port: x\n")
    assert main(["config", "check", "-c", str(bad)]) == 2
    err = capsys.readouterr().err
    assert (
        err.strip() == f"{bad}:4: nodes[0].port: expected a whole number from 1 to 65535, got 'x'"
    )
    assert main(["config", "check", "-c", str(tmp_path / "missing.yaml")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_config_check_takes_c_before_the_subcommand(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(GOOD)
    assert main(["-c", str(good), "config", "check"]) == 0
    assert "ok: cluster 'lab'" in capsys.readouterr().out
