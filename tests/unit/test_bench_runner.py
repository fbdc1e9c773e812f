"""bench/run.py's bookkeeping on canned results: no bench runs here, nothing is timed."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


def load_runner() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_run", BENCH / "run.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_run"] = module
    spec.loader.exec_module(module)
    return module


run = load_runner()
MACHINE = "2 cores, 24 GiB, Some CPU"


def row(bench: str, figure: str, commit: str, **extra: object) -> dict[str, object]:
    base: dict[str, object] = {
        "bench": bench,
        "figure": figure,
        "product": 1.5,
        "unit": "ms",
        "date": "2026-12-01 10:00 UTC",
        "commit": commit,
        "load": [0.5, 0.7],
        "machine": MACHINE,
        "quick": False,
    }
    return {**base, **extra}


def test_parse_takes_bench_lines_and_leaves_the_rest() -> None:
    lines = [
        "round 1: 233.6 MiB/s",
        'BENCH {"figure": "store", "product": 233.6, "unit": "MiB/s", "ratio": 0.52}',
        "BENCH {not json",
        'BENCH {"product": 1}',
        'a line that says BENCH {"figure": "x", "product": 1} later',
    ]
    rows, bad = run.parse(lines)
    assert rows == [{"figure": "store", "product": 233.6, "unit": "MiB/s", "ratio": 0.52}]
    assert bad == ["BENCH {not json", 'BENCH {"product": 1}']


def test_report_emit_is_what_parse_reads(capsys: pytest.CaptureFixture[str]) -> None:
    sys.path.insert(0, str(BENCH))
    try:
        from _report import emit
    finally:
        sys.path.remove(str(BENCH))
    emit("help overlay", 4.2, unit="% of a core", baseline=3.5, ratio=1.2, goal="<= 1.3x", met=True)
    rows, bad = run.parse(capsys.readouterr().out.splitlines())
    assert bad == []
    assert rows == [
        {
            "figure": "help overlay",
            "product": 4.2,
            "unit": "% of a core",
            "baseline": 3.5,
            "ratio": 1.2,
            "goal": "<= 1.3x",
            "met": True,
        }
    ]


def test_merge_replaces_a_rerun_bench_and_keeps_the_others() -> None:
    old = [
        row("boost", "request", "aaa1111"),
        row("memory", "store", "aaa1111"),
        row("memory", "gone figure", "aaa1111"),
    ]
    new = [row("memory", "store", "bbb2222", product=9.0), row("memory", "retrieve", "bbb2222")]
    merged = run.merge(old, "memory", new, complete=True)
    assert [(r["bench"], r["figure"], r["commit"]) for r in merged] == [
        ("boost", "request", "aaa1111"),
        ("memory", "store", "bbb2222"),
        ("memory", "retrieve", "bbb2222"),
    ]


def test_merge_after_a_failed_run_keeps_what_it_did_not_measure() -> None:
    old = [row("memory", "store", "aaa1111"), row("memory", "retrieve", "aaa1111")]
    new = [row("memory", "store", "bbb2222")]
    merged = run.merge(old, "memory", new, complete=False)
    assert [(r["figure"], r["commit"]) for r in merged] == [
        ("store", "bbb2222"),
        ("retrieve", "aaa1111"),
    ]


def test_merge_adds_a_new_bench_in_name_order() -> None:
    old = [row("boost", "request", "aaa1111"), row("scheduler", "decision", "aaa1111")]
    merged = run.merge(old, "overlays", [row("overlays", "help", "bbb2222")], complete=True)
    assert [r["bench"] for r in merged] == ["boost", "overlays", "scheduler"]


def table_rows(block: str) -> list[list[str]]:
    lines = [line for line in block.splitlines() if line.startswith("| ")]
    return [[c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]] for line in lines[1:]]


def test_render_marks_rows_of_another_commit_stale() -> None:
    rows = [
        row("boost", "request", "aaa1111", baseline=2.8, ratio=2.14, goal="<= 1.3x", met=False),
        row("overlays", "help", "bbb2222+dirty", unit="% of a core", product=3.25, met=True),
        row("scheduler", "decision", "bbb2222", quick=True, note="slowest | strategy"),
    ]
    block = run.render(rows, "bbb2222+dirty", "2026-12-07 10:00 UTC")
    assert block.startswith(run.BEGIN) and block.endswith(run.END)
    cells = table_rows(block)
    assert cells[0] == [
        "boost",
        "request",
        "2.80 ms",
        "1.50 ms",
        "2.14x",
        "<= 1.3x",
        "**no**",
        "2026-12-01 10:00 UTC",
        "`aaa1111` **stale**",
        "0.50 → 0.70",
        MACHINE,
    ]
    assert cells[1][3] == "3.25% of a core" and cells[1][6] == "yes"
    assert run.shown(1.0, "% of a core") == "1.00% of a core"  # a measure keeps its digits
    assert run.shown(0, "") == "0" and run.shown(1398, "ms") == "1,398 ms"  # a count does not
    assert cells[1][8] == "`bbb2222+dirty`"
    # Measured on the commit without the dirty tree: not the same code, so stale too.
    assert cells[2][8] == "`bbb2222` **stale**"
    assert cells[2][7].endswith("*quick*")
    assert cells[2][1] == "decision (slowest \\| strategy)"


def test_rewrite_replaces_only_the_generated_block() -> None:
    text = (
        f"# Benchmarks\n\nprose before\n\n{run.BEGIN}\nold table\n{run.END}\n\n## Diagnoses\nkept\n"
    )
    out = run.rewrite(text, f"{run.BEGIN}\nnew table\n{run.END}")
    assert (
        out
        == f"# Benchmarks\n\nprose before\n\n{run.BEGIN}\nnew table\n{run.END}\n\n## Diagnoses\nkept\n"
    )
    with pytest.raises(SystemExit):
        run.rewrite("no markers here", "x")


def test_save_writes_results_and_readme(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{run.BEGIN}\n{run.END}\nafter\n")
    data = {
        "generated": {"commit": "ccc3333", "date": "2026-12-07 10:00 UTC"},
        "rows": [row("boost", "request", "ccc3333")],
    }
    run.save(data, tmp_path / "results.json", readme)
    assert json.loads((tmp_path / "results.json").read_text()) == data
    text = readme.read_text()
    assert text.startswith("intro\n") and text.endswith("\nafter\n")
    assert "| boost | request |" in text and "stale" not in text.split(run.BEGIN)[1].split("|")[-1]


def test_readme_table_is_the_one_results_json_makes() -> None:
    """Nobody edits the figures by hand: the block is what the runner rendered."""
    data = run.load_results()
    gen = data["generated"]
    block = run.render(data["rows"], gen["commit"], gen["date"])
    assert block in run.README.read_text()


def test_every_bench_speaks_the_contract() -> None:
    """Each bench prints its figures for the runner and takes --quick."""
    names = run.benches()
    assert "overlays" in names and "run" not in names and "_report" not in names
    for name in names:
        source = (BENCH / f"{name}.py").read_text()
        assert "emit(" in source and "quick_arg(" in source, name
