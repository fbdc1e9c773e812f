"""Threshold tuning's pure parts (the engine's decide() replayed) and the comment-keeping save."""

from __future__ import annotations

from pathlib import Path

import pytest

from gridtui.config import load_config
from gridtui.model.offload import OffloadPolicy, Rule
from gridtui.policy.tuning import replay, series, with_threshold
from gridtui.services.offload.cluster_file import SaveRefused, save_threshold

RULE = Rule(80.0, sustain=5.0, hysteresis=10.0, cooldown=0.0)


def test_replay_marks_a_sustained_rise_once_and_its_lift() -> None:
    values = [50.0] * 5 + [90.0] * 10 + [60.0] * 5
    times = series(len(values), 1.0, 0.0)
    seen = replay(times, values, "ws", "cpu", RULE)
    assert seen.fences == (times[10],)  # 5 s after the rise at index 5
    assert seen.lifts == (times[15],)
    assert not seen.fenced_now
    # A lower threshold on the same history: still fenced at the end.
    assert replay(times, values, "ws", "cpu", Rule(55.0, 5.0, 10.0, 0.0)).fenced_now


def test_replay_ignores_a_spike_shorter_than_the_sustain() -> None:
    values = [50.0] * 5 + [95.0] * 3 + [50.0] * 5
    assert replay(series(len(values), 1.0, 0.0), values, "ws", "cpu", RULE).fences == ()


def test_with_threshold_sets_the_governing_rule_and_refuses_under_hysteresis() -> None:
    policy = OffloadPolicy(overrides={"head": {"memory": Rule(70.0)}})
    general = with_threshold(policy, "ws", "cpu", 72, head="ws")
    assert general.rules["cpu"].threshold == 72 and general.rules["memory"].threshold == 85
    own = with_threshold(policy, "ws", "memory", 60, head="ws")  # the head's own override
    assert own.overrides["head"]["memory"].threshold == 60
    assert own.rules["memory"].threshold == 85
    with pytest.raises(ValueError, match="hysteresis"):
        with_threshold(policy, "ws", "cpu", 10, head="ws")


FILE = """\
# lab cluster
name: lab
nodes:
- name: ws   # the owner's
  host: ws.lab
  role: head
offload:
  thresholds:
    memory: 85   # keep
  overrides:
    ws:
      thresholds: {cpu: 75}
"""


def test_save_keeps_comments_and_the_file_still_checks(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(FILE)
    assert save_threshold(path, "memory", 70) == "offload.thresholds.memory"
    assert save_threshold(path, "cpu", 65, override="ws").endswith("ws.thresholds.cpu")
    text = path.read_text()
    assert "memory: 70   # keep" in text and "# the owner's" in text
    policy = load_config(path).offload.policy()
    assert policy.rules["memory"].threshold == 70
    assert policy.overrides["ws"]["cpu"].threshold == 65


def test_a_value_the_file_cannot_take_is_refused_and_the_file_kept(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(FILE)
    with pytest.raises(SaveRefused, match="not saved"):
        save_threshold(path, "memory", 5)  # at or under the hysteresis: config check fails
    assert path.read_text() == FILE
