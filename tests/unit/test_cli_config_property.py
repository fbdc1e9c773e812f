"""Generated YAML values in every field of a valid cluster file: `gridtui config check` only
ever exits 0 or 2, never with a traceback, with one line per problem (issue 7)."""

from __future__ import annotations

import contextlib
import io
import math
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from gridtui.cli import main

VALID: dict[str, Any] = {
    "name": "lab",
    "sample_interval": 1.0,
    "history_seconds": 600,
    "demo": False,
    "nodes": [
        {
            "name": "a",
            "host": "10.0.0.1",
            "port": 22,
            "user": "me",
            "identity": "~/.ssh/id_ed25519",
            "python": "python3",
            "role": "head",
            "transport": "ssh",
            "sample_scope": "host",
            "resources": {
                "cpu": 4,
                "gpu": 0,
                "memory": "8GiB",
                "object_store_memory": "1GiB",
                "custom": {"slot": 1},
            },
        },
        {"name": "b", "host": "10.0.0.2"},
    ],
    "ssh": {
        "host_key_policy": "strict",
        "known_hosts": "~/.ssh/known_hosts",
        "connect_timeout": 10,
        "command_timeout": 30,
        "max_concurrent_connects": 16,
        "use_ssh_config": True,
    },
    "ray": {
        "version": "2.60.0",
        "port": 6379,
        "address": "auto",
        "temp_dir": "/tmp/gt",
        "include_dashboard": False,
        "object_store_memory": "256MiB",
        "venv": "~/.gridtui/venv",
    },
    "ui": {"theme": "gridtui-dusk"},
    "alerts": {
        "cpu_percent": 90,
        "memory_percent": 90,
        "gpu_percent": 95,
        "sustain_seconds": 10,
    },
}


def _paths(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(data, dict):
        for key, value in data.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            out += _paths(value, (*prefix, i))
    return out


# Every field, every section, plus places no field is (an unknown key).
FIELDS = [*_paths(VALID), ("extra",), ("nodes", 0, "extra"), ("nodes", 1, "resources", "x")]
RAW = "\x00raw\x00"
# YAML text that no Python value dumps to: tags, anchors, odd scalars, unclosed brackets.
RAW_TOKENS = [
    "[", "{a", "]", "&x", "*y", "!!python/object:os.system", "!!binary AAAA", "!!set {a}",
    "2024-13-45", "2001-01-01", "1" + "0" * 5000, "0x1F", "0o17", "1_000", "+.inf", ".NaN",
    "~", "'unterminated", '"\\ud800"', '"\\0"', "1e999", "-1e999", "1.0e9", "yes", "Off",
    "[red]", "[[b]]", "{x: [1, {y: .inf}]}", "!custom x", "|", ">", "- a", "? a", "@x", "`x`",
    "%x", "12:30:00", "=", "<<: *x",
]  # fmt: skip

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([math.nan, math.inf, -math.inf, 1e308, -0.0, 2**63, -(2**63), 65536]),
    st.text(max_size=12),
    st.text(alphabet=st.sampled_from("ab[]{}:#&*!|>-'\" \t\n\r\x00\x07\x1b\u202e\x85"), max_size=8),
    st.sampled_from(
        ["", " ", "8GiB", "-1GB", "1e3", "head", "accept-new", "nope", "ray-processes"]
    ),
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.one_of(st.text(max_size=6), st.integers(), st.booleans()), inner, max_size=3
        )
    ),
    max_leaves=8,
)


def _set(data: Any, path: tuple[Any, ...], value: Any) -> None:
    for key in path[:-1]:
        if not isinstance(data, dict) or key not in data:
            return  # an earlier field replaced a parent of this one with a scalar or a list
        data = data[key]
    if isinstance(data, dict):
        data[path[-1]] = value


def _copy(data: Any) -> Any:
    return yaml.safe_load(yaml.safe_dump(data))


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("prop")


def config_check(path: Path) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["config", "check", "-c", str(path)])
    return code, out.getvalue(), err.getvalue()


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    fields=st.lists(st.sampled_from(FIELDS), min_size=1, max_size=3),
    generated=st.lists(values, min_size=3, max_size=3),
    raw=st.one_of(st.none(), st.sampled_from(RAW_TOKENS)),
)
@example(fields=[("nodes", 0, "resources", "memory")], generated=[math.inf] * 3, raw=None)
@example(fields=[("nodes", 0, "port")], generated=[True] * 3, raw=None)
@example(fields=[("ssh", "connect_timeout")], generated=[1e9] * 3, raw=None)
@example(fields=[("ssh", "connect_timeout")], generated=[math.nan] * 3, raw=None)
@example(fields=[("nodes", 0, "host")], generated=["a\x00b"] * 3, raw=None)
@example(fields=[("ui", "theme")], generated=["nope"] * 3, raw=None)
def test_config_check_exits_0_or_2_with_one_line_per_problem(
    workdir: Path,
    monkeypatch: pytest.MonkeyPatch,
    fields: list[tuple[Any, ...]],
    generated: list[Any],
    raw: str | None,
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(workdir / "state"))
    data = _copy(VALID)
    for field, value in zip(fields, generated, strict=False):
        # An earlier change may have replaced the section this field lived in.
        with contextlib.suppress(KeyError, IndexError, TypeError):
            _set(data, field, value)
    if raw is not None and _settable(data, fields[0]):
        _set(data, fields[0], RAW)
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=1000)
    if raw is not None:
        text = text.replace(yaml.safe_dump(RAW).split("\n")[0], raw)
    path = workdir / "c.yaml"
    path.write_text(text, encoding="utf-8")

    code, out, err = config_check(path)

    assert code in (0, 2), (code, err)
    assert "Traceback" not in err and "internal error" not in err, err
    if code == 0:
        assert err == "" and out.startswith(f"{path}: ok: cluster ")
    else:
        assert out == "" and err.endswith("\n")
        for line in err.splitlines():
            assert line.startswith(f"{path}:") or line.startswith("(and "), line
    assert not (workdir / "state" / "gridtui" / "gridtui.log").exists()


def _settable(data: Any, path: tuple[Any, ...]) -> bool:
    try:
        for key in path[:-1]:
            data = data[key]
        return isinstance(data, dict | list)
    except (KeyError, IndexError, TypeError):
        return False
