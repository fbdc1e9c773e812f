"""The Offload view: watched nodes' figures against their thresholds, tuning, fences, events."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Footer, Static
from textual.worker import Worker

from gridtui.feeds import NODES, OFFLOAD
from gridtui.model.offload import RESOURCES, OffloadPolicy, Rule
from gridtui.model.offload_view import OffloadSnapshot
from gridtui.ui.access import grid_app
from gridtui.ui.bridge import follow
from gridtui.ui.readonly import ReadOnlyAware
from gridtui.ui.screens.confirm import ConfirmScreen
from gridtui.ui.textual_private import QuietBeneath
from gridtui.ui.widgets.header import ClusterHeader
from gridtui.ui.widgets.history_chart import HistoryChart, Mark
from gridtui.ui.widgets.offload_pane import OffloadPane, state_line
from gridtui.ui.widgets.threshold_gauges import GaugeRow, ThresholdGauges

if TYPE_CHECKING:
    from gridtui.backend import OffloadFeed
    from gridtui.model.nodes import NodeStatus

METRIC = {"cpu": "cpu", "memory": "mem", "gpu": "gpu"}
"""The metrics hub's name for each offload resource's history."""
STEP, BIG_STEP = 1.0, 5.0
GAP = (
    "Ray#41824: zero-CPU work (actors and tasks) still starts on a fenced node; its actors and "
    "running tasks are listed (gridtui's own apart)"
)
GROUP = "offload"
VIEW_ACTORS = 6
"""Actors (and tasks) listed per fenced node here (the chart keeps its room); the CLI lists
up to 20 of each."""
MORE = "(`gridtui offload auto --status` lists up to 20)"


def console_value(node: NodeStatus | None, resource: str) -> float | None:
    if node is None:
        return None
    return {"cpu": node.cpu_percent, "memory": node.mem_percent, "gpu": node.gpu_percent}[resource]


def describe_rules(policy: OffloadPolicy) -> str:
    limits = " · ".join(f"{r} {rule.threshold:g}%" for r, rule in policy.rules.items())
    first = next(iter(policy.rules.values()), None)
    if first is None:
        return "no thresholds"
    return (
        f"{limits}; sustain {first.sustain:g}s, hysteresis {first.hysteresis:g} points, "
        f"cooldown {first.cooldown:g}s"
    )


class OffloadScreen(ReadOnlyAware, QuietBeneath[None]):
    """Reads the app's offload and node feeds; changes go through the Backend's OffloadFeed
    in workers, so a slow or failing engine only ever costs a notification."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "escape",
            "escape",
            "Back / revert",
            tooltip="Back; while tuning, revert the threshold",
        ),
        Binding("t", "tune", "Tune", tooltip="Tune the selected threshold"),
        # The arrows: two rows in the help (HELP_ROWS, added by app.help_rows), not six.
        Binding("up", "pick(-1)", "", show=False),
        Binding("down", "pick(1)", "", show=False),
        Binding("left", "nudge(-1)", "", show=False),
        Binding("right", "nudge(1)", "", show=False),
        Binding("shift+left", "nudge(-5)", "", show=False),
        Binding("shift+right", "nudge(5)", "", show=False),
        Binding(
            "enter",
            "apply",
            "Apply",
            tooltip="Tuning: apply it to the running engine (then offer to save)",
        ),
        Binding(
            "A", "toggle_auto", "Auto on/off", tooltip="Turn auto-offload on or off (asks first)"
        ),
    ]

    HELP_ROWS: ClassVar[list[tuple[str, str]]] = [
        ("↑ ↓", "Select a gauge"),
        ("← →", "Tuning: move the threshold 1 point (with shift: 5)"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.tuning = False
        self.candidate: float | None = None
        self.index = 0
        self.keys: list[tuple[str, str]] = []
        """(node, resource) of each gauge, in order."""

    def compose(self) -> ComposeResult:
        yield ClusterHeader(id="header")
        with Vertical(id="offload-top"):
            yield Static(id="offload-engine", markup=False)
            yield ThresholdGauges(id="offload-gauges")
            yield Static(id="offload-fenced", markup=False)
        with Horizontal(id="offload-bottom"):
            yield HistoryChart("history", id="offload-chart", colour_variable="accent")
            events = OffloadPane(id="offload-view-events")
            events.can_focus = False
            events.border_title = "Offload events"
            yield events
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(ClusterHeader).subtitle = "Offload"
        follow(self, NODES, lambda _snap: self.redraw(), now=False)
        follow(self, OFFLOAD, lambda _snap: self.redraw(), now=False)
        self.redraw()
        feed = self.feed()
        if feed is not None:
            self.run_worker(feed.read_once(), name="Offload", group=GROUP, exit_on_error=False)

    def feed(self) -> OffloadFeed | None:
        app = grid_app(self)
        return app.backend.offload if app.ready else None

    def _need_feed(self) -> OffloadFeed | None:
        feed = self.feed()
        if feed is None or grid_app(self).offload.policy is None:
            why = grid_app(self).offload.message or "the engine has not answered yet"
            self.notify(f"Auto-offload is not reachable: {why}", severity="warning")
            return None
        return feed

    # -- drawing -----------------------------------------------------------------------------

    def _value(self, snap: OffloadSnapshot, node: str, resource: str) -> float | None:
        """The engine's own reading while it samples; the console's figure otherwise."""
        if snap.policy is not None and snap.policy.enabled:
            engine = snap.live.get(node, {}).get(resource)
            if engine is not None:
                return engine
        return console_value(grid_app(self).snapshot.node(node), resource)

    def _history(self, node: str, resource: str) -> tuple[tuple[float, ...], float]:
        app = grid_app(self)
        if not app.ready:
            return (), 1.0
        backend = app.backend
        return backend.metrics.history(node, METRIC[resource]), backend.config.sample_interval

    def redraw(self) -> None:
        app = grid_app(self)
        header = self.query_one(ClusterHeader)
        header.snapshot = app.snapshot
        snap, feed = app.offload, self.feed()
        policy = snap.policy
        engine = self.query_one("#offload-engine", Static)
        gauges = self.query_one(ThresholdGauges)
        chart = self.query_one(HistoryChart)
        if policy is None or feed is None:
            engine.update(state_line(snap))
            gauges.show([])
            self.query_one("#offload-fenced", Static).update("")
            return
        keys: list[tuple[str, str, Rule, float | None]] = []
        for node in feed.watched(policy):
            for resource in RESOURCES:
                rule = feed.rule(policy, node, resource)
                value = self._value(snap, node, resource)
                if rule is not None and (value is not None or resource != "gpu"):
                    keys.append((node, resource, rule, value))
        self.keys = [(n, r) for n, r, _, _ in keys]
        self.index = min(self.index, max(0, len(keys) - 1))
        if not keys:
            engine.update(state_line(snap) + " · no watched node has a threshold")
            gauges.show([])
            return
        sel_node, sel_res, sel_rule, _ = keys[self.index]
        governs = (feed.override(policy, sel_node, sel_res), sel_res)
        rows = []
        for i, (node, resource, rule, value) in enumerate(keys):
            same = (feed.override(policy, node, resource), resource) == governs
            limit = self.candidate if self.tuning and same and self.candidate else rule.threshold
            values, interval = self._history(node, resource)
            fires = feed.replay(values, interval, 0.0, node, resource, rule, limit).fenced_now
            row = GaugeRow(node, resource, value, limit, i == self.index, fires,
                           node in snap.fenced, limit != rule.threshold)  # fmt: skip
            rows.append(row)
        gauges.show(rows)
        engine.update(self._engine_text(snap, policy, sel_node, sel_res, sel_rule))
        self.query_one("#offload-fenced", Static).update(self._fenced_text(snap))
        self._chart(chart, feed, rows[self.index], sel_rule)

    def _engine_text(
        self, snap: OffloadSnapshot, policy: OffloadPolicy, node: str, resource: str, rule: Rule
    ) -> str:
        feed = self.feed()
        watched = ", ".join(feed.watched(policy) if feed is not None else policy.watched)
        lines = [f"{state_line(snap)} · watching {watched}", describe_rules(policy)]
        if self.tuning and self.candidate is not None:
            lines.append(
                f"TUNING {resource} on {node}: {self.candidate:g}% (running {rule.threshold:g}%)"
                " · ←/→ ±1, shift ±5, ↑/↓ another gauge, enter applies, escape reverts"
            )
        else:
            lines.append("t tunes the selected threshold · A turns auto-offload on or off")
        return "\n".join(lines)

    def _fenced_text(self, snap: OffloadSnapshot) -> str:
        if not snap.fenced:
            return "no node fenced"
        lines = []
        for node in snap.fenced:
            held = next(
                (e.result for e in snap.events if e.node == node and e.action == "fence"), ""
            )
            lines.append(f"{node} fenced{f' ({held})' if held else ''}; still running there:")
            still = snap.still_running.get(node)
            if still is None:
                lines.append("  not reported (an older controller, or Ray lists the node dead)")
                continue
            lines.extend(f"  {line}" for line in still.lines(VIEW_ACTORS, MORE))
            if still.own:
                lines.append(f"  ({still.own_note()})")
        lines.append(GAP)
        return "\n".join(lines)

    def _chart(self, chart: HistoryChart, feed: OffloadFeed, row: GaugeRow, rule: Rule) -> None:
        values, interval = self._history(row.node, row.resource)
        chart.title = f"{row.node} {row.resource} %"
        if not values or row.threshold is None:
            chart.show([], interval, note="no history yet")
            return
        replay = feed.replay(values, interval, 0.0, row.node, row.resource, rule, row.threshold)
        n = len(values)
        marks: list[Mark] = []
        for kind, times in (("fence", replay.fences), ("lift", replay.lifts)):
            for t in times:
                i = min(n - 1, max(0, n - 1 + round(t / interval)))
                marks.append((t, values[i], kind))
        note = f"at {row.threshold:g}%: {len(replay.fences)} fence(s) in {n * interval:.0f}s"
        chart.show(
            [(row.resource, values)], interval, note=note, threshold=row.threshold, marks=marks
        )

    # -- keys ------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("nudge", "apply") and not self.tuning:
            return False
        return super().check_action(action, parameters)  # a read-only console hides `A`, `enter`

    def _selected_rule(self) -> tuple[str, str, Rule] | None:
        policy, feed = grid_app(self).offload.policy, self.feed()
        if policy is None or feed is None or not self.keys:
            return None
        node, resource = self.keys[self.index]
        rule = feed.rule(policy, node, resource)
        return None if rule is None else (node, resource, rule)

    def _set_tuning(self, on: bool, candidate: float | None = None) -> None:
        self.tuning, self.candidate = on, candidate
        self.refresh_bindings()
        self.redraw()

    def action_tune(self) -> None:
        if self.tuning or self._need_feed() is None:
            return
        chosen = self._selected_rule()
        if chosen is None:
            self.notify("No threshold to tune: no watched node has figures yet", severity="warning")
            return
        self._set_tuning(True, chosen[2].threshold)

    def action_pick(self, step: int) -> None:
        if not self.keys:
            return
        self.index = (self.index + step) % len(self.keys)
        chosen = self._selected_rule()
        self._set_tuning(self.tuning, chosen[2].threshold if chosen and self.tuning else None)

    def action_nudge(self, points: int) -> None:
        if not self.tuning or self.candidate is None:
            return
        self.candidate = min(100.0, max(1.0, self.candidate + points))
        self.redraw()

    def action_escape(self) -> None:
        if self.tuning:
            self._set_tuning(False)
            self.notify("Threshold reverted: the running engine is unchanged", timeout=3)
        else:
            self.app.pop_screen()

    def action_apply(self) -> None:
        chosen = self._selected_rule()
        feed = self._need_feed()
        if not self.tuning or chosen is None or feed is None or self.candidate is None:
            return
        node, resource, rule = chosen
        if self.candidate == rule.threshold:
            self._set_tuning(False)
            self.notify(f"{resource} threshold unchanged at {rule.threshold:g}%", timeout=3)
            return
        work = self._apply(feed, node, resource, self.candidate, rule.threshold)
        self.run_worker(work, name="Tune", group=GROUP, exclusive=True, exit_on_error=False)

    async def _apply(
        self, feed: OffloadFeed, node: str, resource: str, value: float, was: float
    ) -> None:
        policy = await feed.set_threshold(node, resource, value)
        self._set_tuning(False)
        self.notify(
            f"{resource} threshold on {node}: {value:g}% (was {was:g}%), running on the engine",
            title="Offload",
        )
        self._offer_save(feed, policy, node, resource, value)

    def _offer_save(
        self, feed: OffloadFeed, policy: OffloadPolicy, node: str, resource: str, value: float
    ) -> None:
        if feed.config_path is None:
            self.notify(
                "No cluster file (the demo): the new value lives in the running engine only; "
                "nothing to save it to",
                title="Offload",
                timeout=6,
            )
            return
        field = feed.save_field(policy, node, resource)
        lines = [
            f"{field}: {value:g}",
            f"in {feed.config_path}",
            "The file's comments and layout are kept; it is checked as `gridtui config check` "
            "does before it is replaced.",
        ]

        def answered(yes: bool | None) -> None:
            if yes:
                self.run_worker(
                    lambda: self._save(feed, policy, node, resource),
                    name="Save",
                    group=GROUP,
                    thread=True,
                    exit_on_error=False,
                )

        self.app.push_screen(ConfirmScreen("Save to the cluster file?", lines, "Save"), answered)

    def _save(self, feed: OffloadFeed, policy: OffloadPolicy, node: str, resource: str) -> None:
        """In a thread: the file is read, checked and replaced off the event loop."""
        field = feed.save_threshold(policy, node, resource)
        self.app.call_from_thread(
            self.notify, f"Saved {field} to {feed.config_path}", title="Offload"
        )

    def action_toggle_auto(self) -> None:
        feed = self._need_feed()
        snap = grid_app(self).offload
        if feed is None or snap.policy is None:
            return
        on = not snap.policy.enabled
        base = snap.policy if snap.stored else feed.file_policy
        if on:
            title = "Turn auto-offload on?"
            lines = [
                f"Watching {', '.join(feed.watched(base))}: {describe_rules(base)}.",
                "A node over a threshold for its sustain time gets a fence (its free CPU/GPU "
                "reserved, so Ray schedules new work elsewhere)"
                + (" (dry run: decided and recorded only)." if base.dry_run else "."),
            ]
        else:
            title = "Turn auto-offload off?"
            lines = ["Every fence it holds is lifted; nothing more is decided until it is on."]

        def answered(yes: bool | None) -> None:
            if yes:
                self.run_worker(self._toggle(feed, on), name="Auto-offload", group=GROUP,
                                exclusive=True, exit_on_error=False)  # fmt: skip

        self.app.push_screen(ConfirmScreen(title, lines, "Turn on" if on else "Turn off"), answered)

    async def _toggle(self, feed: OffloadFeed, on: bool) -> None:
        await feed.set_enabled(on)
        self.notify(f"Auto-offload is {'on' if on else 'off'}", title="Offload")

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        grid_app(self).report_worker_failure(event)
