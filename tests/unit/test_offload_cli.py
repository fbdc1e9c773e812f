"""`gridtui offload auto` flags: bad thresholds and durations are refused before the cluster is asked."""

from __future__ import annotations

import pytest

from gridtui.cli import main
from gridtui.commands.offload_cmd import describe
from gridtui.model.offload import OffloadEvent, OffloadPolicy, Rule, Trigger
from gridtui.services.offload.thresholds import (
    BadOffloadFlag,
    changed,
    parse_sustain,
    parse_thresholds,
    public,
)


def test_thresholds_by_resource_and_bare() -> None:
    assert parse_thresholds(["cpu=80", "memory=65", "GPU=90%"]) == {
        "cpu": 80,
        "memory": 65,
        "gpu": 90,
    }
    assert parse_thresholds(["70"]) == {"memory": 70}
    assert parse_thresholds(["cpu=1", "cpu=100"]) == {"cpu": 100}


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("cpu=0", "'cpu=0': 0 is out of range: expected 1 to 100 percent"),
        ("101", "'101': 101 is out of range"),
        ("cpu=nan", "out of range"),
        ("disk=50", "unknown resource 'disk' (known: cpu, memory, gpu)"),
        ("cpu=", "expected a percent from 1 to 100"),
        ("cpu=eighty", "expected a percent from 1 to 100"),
        ("=50", "unknown resource ''"),
    ],
)
def test_bad_thresholds_are_refused(text: str, problem: str) -> None:
    with pytest.raises(BadOffloadFlag, match=problem.replace("(", r"\(").replace(")", r"\)")):
        parse_thresholds([text])


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["--enable", "--threshold", "cpu=150"], "150 is out of range"),
        (["--enable", "--threshold", "swap=50"], "unknown resource 'swap'"),
        (["--enable", "--sustain", "ten"], "--sustain 'ten'"),
        (["--disable", "--threshold", "cpu=50"], "--disable takes no"),
        (["--disable", "--sustain", "5s"], "--disable takes no"),
        (["--status", "--dry-run"], "go with --enable"),
        (["--threshold", "cpu=50"], "go with --enable"),
    ],
)
def test_the_cli_refuses_with_exit_2_before_any_cluster(
    args: list[str], problem: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # No cluster file is given and none is needed: the flags are refused first, so the
    # running policy cannot have changed.
    code = main(["offload", "auto", *args, "-c", "/nonexistent/cluster.yaml"])
    out, err = capsys.readouterr()
    assert (code, out) == (2, "")
    assert problem in err and err.count("\n") == 1


def test_sustain_durations() -> None:
    assert [parse_sustain(t) for t in ("10s", "0", "2m", "1.5s", "1h")] == [10, 0, 120, 1.5, 3600]
    for bad in ("-1s", "2h", "10 days", ""):
        with pytest.raises(BadOffloadFlag):
            parse_sustain(bad)


def test_enable_changes_only_what_was_asked() -> None:
    base = OffloadPolicy(rules={"cpu": Rule(80, 10, 10, 30), "memory": Rule(85, 10, 10, 30)})
    new = changed(base, True, {"cpu": 70}, 5.0, True)
    assert new.enabled and new.dry_run
    assert new.rules["cpu"] == Rule(70, 5, 10, 30)
    assert new.rules["memory"] == Rule(85, 5, 10, 30)
    assert "gpu" not in new.rules and new.watched == base.watched
    added = changed(base, True, {"gpu": 90}, None, False)
    assert added.rules["gpu"].threshold == 90 and not added.dry_run
    off = changed(new, False, {}, None, False)
    assert not off.enabled and off.rules == new.rules
    assert not off.dry_run  # a disable does not keep dry-run...
    assert changed(new, False, {}, None, True).dry_run  # ...unless asked to
    with pytest.raises(BadOffloadFlag, match="never lift"):
        changed(base, True, {"cpu": 10}, None, False)


def test_status_object_and_text() -> None:
    policy = OffloadPolicy(enabled=True, rules={"cpu": Rule(70, 5, 10, 30)}, dry_run=True)
    status = {**policy.to_record(), "fenced": ["head"], "stored": True}
    data = public(status)
    assert {k: data[k] for k in ("enabled", "thresholds", "hysteresis", "cooldown")} == {
        "enabled": True,
        "thresholds": {"cpu": 70},
        "hysteresis": 10,
        "cooldown": 30,
    }
    assert data["sustain"] == {"cpu": 5} and data["watched"] == ["head"] and data["dry_run"]
    assert describe(public(status)).splitlines() == [
        "auto-offload on (dry run): cpu 70% for 5s",
        "hysteresis 10 points, cooldown 30s; watching head",
        "fenced: head",
    ]


def test_a_change_says_what_it_did_and_what_ray_holds_after() -> None:
    """`--disable` prints its events and the fences read from Ray once it is done: none
    left is said as such, not as the engine's memory of them."""
    policy = OffloadPolicy(enabled=False, rules={"cpu": Rule(70, 5, 10, 30)})
    lifted = OffloadEvent(7, 5.0, "head", Trigger.because("disabled"), "unfence", "done")
    status = {**policy.to_record(), "stored": True, "fenced": [],
              "changes": [lifted.to_record()]}  # fmt: skip
    assert describe(public(status)).splitlines()[2:] == [
        "done: unfence head: auto-offload was turned off (done)",
        "fenced (in Ray): none",
    ]
    assert public(status)["changes"][0]["message"] == lifted.message
    unread = {**status, "fenced": ["head"], "fenced_unread": "GCS down"}
    assert (
        describe(public(unread)).splitlines()[-1]
        == "fenced (the engine's own list: GCS down): head"
    )
    status.pop("changes")  # `--status`: no change, the engine's own list
    assert describe(public({**status, "fenced": ["head"]})).splitlines()[2:] == ["fenced: head"]
