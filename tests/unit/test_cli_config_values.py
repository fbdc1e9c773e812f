"""Values that would validate but break later are refused by `gridtui config check`: one line
naming file, line, field and the bad value, exit 2, no traceback (issue 7, class 2)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gridtui.cli import main
from gridtui.config import parse_config, theme_names
from gridtui.configvalues import TEXTUAL_THEMES

BASE = "name: lab\nnodes:\n  - name: a\n    host: {host}\n{node}{top}"

# (where the snippet goes, snippet, the problem after "c.yaml:LINE: ").
CASES = [
    ("node", "    port: true\n", "nodes[0].port: expected a whole number from 1 to 65535, got true"),
    ("node", "    port: 70000\n", "nodes[0].port: 70000 is out of range: expected a whole number from 1 to 65535"),
    ("node", "    port: 22.5\n", "nodes[0].port: 22.5 is not a whole number: expected a whole number from 1 to 65535"),
    ("node", "    port: '22'\n", "nodes[0].port: expected a whole number from 1 to 65535, got '22'"),
    ("node", "    resources: {memory: .inf}\n", "nodes[0].resources.memory: .inf is not a finite size"),
    ("node", "    resources: {memory: -.inf}\n", "nodes[0].resources.memory: -.inf is not a finite size"),
    ("node", "    resources: {memory: -1}\n", "nodes[0].resources.memory: -1 is negative: expected a size such as 4GiB or 512MB"),
    ("node", "    resources: {memory: 2000 TiB}\n", "nodes[0].resources.memory: '2000 TiB' is out of range: expected a size from 0 bytes to 1 PiB"),
    ("node", "    resources: {memory: 99999999999999999999999999999999999999999999 TiB}\n", "nodes[0].resources.memory: '9999999999999999999999999999999999999...' is out of range: expected a size from 0 bytes to 1 PiB"),
    ("node", "    resources: {memory: true}\n", "nodes[0].resources.memory: expected a size such as 4GiB or 512MB, got true"),
    ("node", "    resources: {cpu: .nan}\n", "nodes[0].resources.cpu: .nan is not a finite number: expected a whole number from 0 to 4096"),
    ("node", "    resources: {cpu: yes}\n", "nodes[0].resources.cpu: expected a whole number from 0 to 4096, got true"),
    ("node", "    resources: {cpu: 0.5}\n", "nodes[0].resources.cpu: 0.5 is not a whole number: expected a whole number from 0 to 4096"),
    ("node", "    resources: {gpu: -1}\n", "nodes[0].resources.gpu: -1 is out of range: expected a whole number from 0 to 1024"),
    ("node", "    resources: {object_store_memory: 1MiB}\n", "nodes[0].resources.object_store_memory: '1MiB' is out of range: expected a size from 75 MiB to 1 PiB"),
    ("node", "    resources:\n      custom: {x: -1}\n", "nodes[0].resources.custom.x: -1 is out of range: expected a number above 0 to 1000000000"),
    ("node", "    resources:\n      custom: {x: 0}\n", "nodes[0].resources.custom.x: 0 is out of range: expected a number above 0 to 1000000000"),
    ("node", "    resources:\n      custom: {x: .nan}\n", "nodes[0].resources.custom.x: .nan is not a finite number: expected a number above 0 to 1000000000"),
    ("node", "    resources:\n      custom: {x: true}\n", "nodes[0].resources.custom.x: expected a number above 0 to 1000000000, got true"),
    ("node", "    resources:\n      custom: {'': 1}\n", "nodes[0].resources.custom: resource name '': use letters, digits, '_', '.', ':', '/', '-' (up to 64, starting with a letter or '_')"),
    ("node", "    resources:\n      custom: {CPU: 1}\n", "nodes[0].resources.custom.CPU: 'CPU' is Ray's own: use cpu, gpu or memory"),
    ("node", "    resources:\n      custom: [1]\n", "nodes[0].resources.custom: expected a mapping of resource name to amount, got a list"),
    ("node", '    user: "x\\ny"\n', "nodes[0].user: 'x\\ny' contains a control character (U+000A at position 2)"),
    ("node", '    identity: ""\n', "nodes[0].identity: must not be empty"),
    ("node", '    python: "py\\0"\n', "nodes[0].python: 'py\\x00' contains a control character (U+0000 at position 3)"),
    ("node", "    role: boss\n", "nodes[0].role: expected 'head' or 'worker', got 'boss'"),
    ("node", "    transport: 1\n", "nodes[0].transport: expected 'ssh' or 'local', got 1"),
    ("node", "    resources: 4\n", "nodes[0].resources: expected a mapping, got 4"),
    ("top", "ssh: {connect_timeout: 1.0e9}\n", "ssh.connect_timeout: 1000000000.0 is out of range: expected a number from 0.5 to 300 seconds"),
    ("top", "ssh: {connect_timeout: .nan}\n", "ssh.connect_timeout: .nan is not a finite number: expected a number from 0.5 to 300 seconds"),
    ("top", "ssh: {command_timeout: 0}\n", "ssh.command_timeout: 0 is out of range: expected a number from 1 to 3600 seconds"),
    ("top", "ssh: {max_concurrent_connects: 0}\n", "ssh.max_concurrent_connects: 0 is out of range: expected a whole number from 1 to 1000"),
    ("top", "ssh: {use_ssh_config: 1}\n", "ssh.use_ssh_config: expected true or false, got 1"),
    ("top", "ssh: {known_hosts: [a]}\n", "ssh.known_hosts: expected text, got a list"),
    ("top", "ssh: {host_key_policy: yes}\n", "ssh.host_key_policy: expected 'strict' or 'accept-new', got true"),
    ("top", "sample_interval: -.inf\n", "sample_interval: -.inf is not a finite number: expected a number from 0.1 to 300 seconds"),
    ("top", "history_seconds: 5\n", "history_seconds: 5 is out of range: expected a number from 10 to 86400 seconds"),
    ("top", "demo: 'yes'\n", "demo: expected true or false, got 'yes'"),
    ("top", "alerts: {cpu_percent: 0}\n", "alerts.cpu_percent: 0 is out of range: expected a number above 0 to 100 percent"),
    ("top", "alerts: {memory_percent: 100.5}\n", "alerts.memory_percent: 100.5 is out of range: expected a number above 0 to 100 percent"),
    ("top", "alerts: {sustain_seconds: 99999}\n", "alerts.sustain_seconds: 99999 is out of range: expected a number from 0 to 3600 seconds"),
    ("top", "offload: {thresholds: {cpu: 0}}\n", "offload.thresholds.cpu: 0 is out of range: expected a number from 1 to 100 percent"),
    ("top", "offload: {thresholds: {memory: 101}}\n", "offload.thresholds.memory: 101 is out of range: expected a number from 1 to 100 percent"),
    ("top", "offload: {thresholds: {disk: 50}}\n", "offload.thresholds.disk: unknown field (check the spelling; see docs/configuration.md)"),
    ("top", "offload: {thresholds: {gpu: '90%'}}\n", "offload.thresholds.gpu: expected a number from 1 to 100 percent, got '90%'"),
    ("top", "offload: {sustain_seconds: -1}\n", "offload.sustain_seconds: -1 is out of range: expected a number from 0 to 3600 seconds"),
    ("top", "offload: {hysteresis: 100}\n", "offload.hysteresis: 100 is out of range: expected a number from 0 to 99 points"),
    ("top", "offload: {hysteresis: 80}\n", "offload.hysteresis: 80 points would never lift a fence at the cpu threshold of 80%: use less than 80"),
    ("top", "offload: {cooldown_seconds: .nan}\n", "offload.cooldown_seconds: .nan is not a finite number: expected a number from 0 to 86400 seconds"),
    ("top", "offload: {enabled: 'on'}\n", "offload.enabled: expected true or false, got 'on'"),
    ("top", "offload: {dry_run: 1}\n", "offload.dry_run: expected true or false, got 1"),
    ("top", "offload:\n  watched: [a, ghost]\n", "offload.watched[1]: no node named 'ghost' to watch"),
    ("top", "offload:\n  overrides:\n    ghost: {sustain_seconds: 1}\n", "offload.overrides.ghost: no node named 'ghost'"),
    ("top", "offload:\n  overrides:\n    a: {thresholds: {cpu: 200}}\n", "offload.overrides.a.thresholds.cpu: 200 is out of range: expected a number from 1 to 100 percent"),
    ("top", "ui: {theme: 5}\n", "ui.theme: expected text, got the number 5: put it in quotes"),
    ("top", "ui: {read_only: 'yes'}\n", "ui.read_only: expected true or false, got 'yes'"),
    ("top", "ui: {read_only: 0}\n", "ui.read_only: expected true or false, got 0"),
    ("top", "ray: {version: 2.60}\n", "ray.version: expected text, got the number 2.6: put it in quotes"),
    ("top", "ray: {version: '2.60; rm'}\n", "ray.version: '2.60; rm' is not a version such as \"2.60.0\""),
    ("top", "ray: {port: true}\n", "ray.port: expected a whole number from 1 to 65535, got true"),
    ("top", "ray: {object_store_memory: 12 parsecs}\n", "ray.object_store_memory: '12 parsecs' is not a size such as 4GiB or 512MB"),
    ("top", 'ray: {temp_dir: "/tmp/\\e[31m"}\n', "ray.temp_dir: '/tmp/\\x1b[31m' contains a control character (U+001B at position 6)"),
    ("host", '"a\\0b"', "nodes[0].host: 'a\\x00b' contains a control character (U+0000 at position 2)"),
    ("host", '"a\\eb"', "nodes[0].host: 'a\\x1bb' contains a control character (U+001B at position 2)"),
    ("host", '"a\\u202eb"', "nodes[0].host: 'a\\u202eb' contains a control character (U+202E at position 2)"),
    ("host", '"-oProxyCommand=x"', "nodes[0].host: '-oProxyCommand=x': a host name or address, without spaces or a leading '-'"),
    ("host", "1", "nodes[0].host: expected text, got the number 1: put it in quotes"),
    ("host", "", "nodes[0].host: expected text, got null"),
]  # fmt: skip


def cluster_file(where: str, snippet: str) -> str:
    return BASE.format(
        host=snippet if where == "host" else "10.0.0.1",
        node=snippet if where == "node" else "",
        top=snippet if where == "top" else "",
    )


def check(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["config", "check", "-c", str(path)])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(("where", "snippet", "problem"), CASES)
def test_bad_value_is_one_line_naming_it(
    where: str, snippet: str, problem: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "c.yaml"
    text = cluster_file(where, snippet)
    path.write_text(text)
    # The problem's line: the snippet's last line (the host's line for host cases).
    last = "host:" if where == "host" else snippet.splitlines()[-1].strip()
    line = next(i for i, ln in enumerate(text.splitlines(), 1) if last in ln)
    code, out, err = check(path, capsys)
    assert (code, out) == (2, "")
    assert err == f"{path}:{line}: {problem}\n"


def test_values_at_the_edges_of_their_ranges_pass(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(
        "sample_interval: 0.1\nhistory_seconds: 86400\n"
        "ssh: {connect_timeout: 300, command_timeout: 1, max_concurrent_connects: 1000}\n"
        "alerts: {cpu_percent: 100, sustain_seconds: 0}\n"
        "offload: {enabled: true, dry_run: true, thresholds: {cpu: 1, memory: 100, gpu: null},"
        " sustain_seconds: 3600, hysteresis: 0, cooldown_seconds: 86400, watched: [head, a],"
        " overrides: {a: {thresholds: {gpu: 1}, sustain_seconds: 0}}}\n"
        "ray: {port: 65535, object_store_memory: 75MiB, version: '2.60.0'}\n"
        "ui: {theme: textual-light, read_only: true}\n"
        "nodes:\n  - {name: a, host: h, port: 1, resources: {cpu: 0, gpu: 1024, memory: 1e3,"
        " custom: {'accelerator_type:A100': 1000000000, slot: 0.5}}}\n"
    )
    code, out, err = check(path, capsys)
    assert (code, err) == (0, "") and out.startswith(f"{path}: ok")
    config = parse_config(path.read_text())
    assert config.ui.read_only
    assert config.nodes[0].resources.memory == 1000  # 1e3 is a number in YAML 1.2, as here
    assert config.nodes[0].resources.custom == {"accelerator_type:A100": 1e9, "slot": 0.5}
    policy = config.offload.policy()
    assert policy.enabled and policy.dry_run and policy.watched == ("head", "a")
    assert {r: p.threshold for r, p in policy.rules.items()} == {"cpu": 1, "memory": 100}
    assert policy.rules["cpu"].sustain == 3600 and policy.rules["cpu"].cooldown == 86400
    assert {r: (p.threshold, p.sustain) for r, p in policy.overrides["a"].items()} == {
        "cpu": (1, 0), "memory": (100, 0), "gpu": (1, 0)
    }  # fmt: skip


def test_unknown_theme_lists_the_known_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(cluster_file("top", "ui: {theme: nope}\n"))
    code, _, err = check(path, capsys)
    assert code == 2
    assert err.startswith(f"{path}:5: ui.theme: unknown theme 'nope'; known: ")
    assert "gridtui-dusk" in err and "textual-dark" in err and err.count("\n") == 1


def test_theme_names_need_no_textual_and_match_it() -> None:
    """The config names Textual's built-in themes without importing Textual: this pins them."""
    from textual.theme import BUILTIN_THEMES

    assert frozenset(BUILTIN_THEMES) == TEXTUAL_THEMES
    from gridtui.ui.themes import load_themes

    assert {t.name for t in load_themes()} <= theme_names()
    assert theme_names() - TEXTUAL_THEMES == {"gridtui-dusk", "gridtui-paper", "gridtui-phosphor"}


def test_every_problem_of_a_file_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(
        "ssh: {connect_timeout: .nan}\nnodes:\n  - {name: a, host: h, port: true}\n"
        '  - {name: b, host: "h\\0", resources: {memory: .inf}}\n'
    )
    code, _, err = check(path, capsys)
    assert code == 2
    assert [line.split(": ")[0:2] for line in err.splitlines()] == [
        [f"{path}:3", "nodes[0].port"],
        [f"{path}:4", "nodes[1].host"],
        [f"{path}:4", "nodes[1].resources.memory"],
        [f"{path}:1", "ssh.connect_timeout"],
    ]
