"""The read-only console: which actions change the cluster, declared once, and the one gate."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, cast

from textual.actions import ActionParseResult, parse
from textual.binding import Binding
from textual.dom import DOMNode

if TYPE_CHECKING:
    from textual.app import App

# Every action a key or the palette can run is in exactly one of these two sets (a test walks
# every binding of every screen and fails on an action in neither): a new key that changes
# the cluster is refused by `gridtui --read-only` as soon as its action is listed here, or in
# the CHANGES_CLUSTER of the ReadOnlyAware class that declares the key (a pane's own).
CHANGES_CLUSTER = set(
    {
        "start_cluster",
        "stop_cluster",
        "stop_node",
        "install",
        "shell",  # a shell on a node can change anything there
        "boost_form",
        "quick_boost",
        "release_newest",
        "share_form",
        "release_reservation",
        "drain_node",
        "apply",  # a tuned threshold into the running engine
        "toggle_auto",
        "stop_work",  # the Work view's k: stops a job or kills an actor
        "job_form",  # the Work view's j: submits a job
    }
)
"""Refused in a read-only console (keys, footer clicks and the command palette alike)."""

LOOKS_ONLY = set(
    {
        "help",
        "next_theme",  # the console's own preference, not the cluster's
        "quit",
        "open_detail",
        "focus_pane",
        "sort_next",
        "sort_reverse",
        "filter",
        "clear_filter",
        "logs",
        "cursor_up",
        "cursor_down",
        "page_up",
        "page_down",
        "first",
        "last",
        "pop_screen",
        "follow",
        "pause",
        "reload",
        "dismiss",
        "cancel",
        "cancel_transfer",  # stops a retrieve (a store is refused before it starts)
        # A confirmation's answer runs only what a refused action would have asked for.
        "answer",
        "open_offload",
        "complete",
        "escape",
        # Tuning moves a threshold in the view only; `apply` is what reaches the engine.
        "tune",
        "pick",
        "nudge",
        "open_work",
        "work_logs",
    }
)
"""Allowed in a read-only console: they look at the cluster, or at the console itself."""


def action_name(action: str | ActionParseResult) -> str:
    """`screen.quick_boost('cpu')` -> `quick_boost`."""
    return _parsed(action)[1]


def changes_cluster(action: str | ActionParseResult) -> bool:
    return action_name(action) in CHANGES_CLUSTER


def _parsed(action: str | ActionParseResult) -> ActionParseResult:
    return parse(action) if isinstance(action, str) else action


def _bindings_in_reach(app: App[Any]) -> Iterator[Binding]:
    """The bindings of the focused widget, its ancestors, the screen and the app."""
    start: DOMNode = app.screen.focused or app.screen
    for node in start.ancestors_with_self:
        for owner in type(node).__mro__:
            yield from Binding.make_bindings(owner.__dict__.get("BINDINGS", []))


def refusal(app: App[Any], action: str | ActionParseResult) -> str:
    """`read-only console: b (boost) changes the cluster`: the key as the user pressed it,
    or the action's name when it came from somewhere without one."""
    _, name, params = _parsed(action)
    for binding in _bindings_in_reach(app):
        if _parsed(binding.action)[1:] == (name, params):
            what = binding.description or name.replace("_", " ")
            what = what[:1].lower() + what[1:]
            return f"read-only console: {app.get_key_display(binding)} ({what}) changes the cluster"
    return f"read-only console: {name.replace('_', ' ')} changes the cluster"


class ReadOnlyAware:
    """Mixed into whatever runs a CHANGES_CLUSTER action (the app, the panes, the Offload
    view), before its Textual base: in a read-only console those actions leave the footer,
    so it never offers a refused key. (Pressing one is refused by GridApp.run_action, the
    one gate.)

    Not a DOMNode itself: Textual takes a class's CSS from its first DOMNode base, which
    must stay Screen or App.

    A class may declare its own keys' actions in CHANGES_CLUSTER and LOOKS_ONLY: they join
    the sets above when the class is defined, so a new pane classifies its keys where it
    binds them."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        CHANGES_CLUSTER.update(cls.__dict__.get("CHANGES_CLUSTER", ()))
        LOOKS_ONLY.update(cls.__dict__.get("LOOKS_ONLY", ()))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in CHANGES_CLUSTER and getattr(cast(DOMNode, self).app, "read_only", False):
            return False
        after: Any = super()
        return cast("bool | None", after.check_action(action, parameters))
