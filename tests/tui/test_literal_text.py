"""Text from a cluster file, a node or SSH is shown literally everywhere, never as markup."""

from __future__ import annotations

from typing import Any

import pytest
from screen_text import screen_text
from textual.widgets import Log

from gridtui.backend import Backend
from gridtui.config import ClusterConfig
from gridtui.model.nodes import NodeState
from gridtui.prefs import Prefs
from gridtui.services.cluster.lifecycle import ClusterError, NodeProgress, StartReport
from gridtui.services.metrics.hub import MetricsHub
from gridtui.ui.app import GridApp, make_app
from gridtui.ui.screens.cluster_progress import ClusterProgressScreen
from gridtui.ui.screens.confirm import ConfirmScreen
from gridtui.ui.screens.main import MainScreen
from gridtui.ui.screens.node_detail import NodeDetailScreen
from gridtui.ui.screens.ray_logs import RayLogScreen
from gridtui.ui.widgets.nodes_table import NodesTable

SIZE = (160, 45)

# Markup that would vanish ([red]), close nothing ([/]), never close ([bold), or act.
TEXTS = ["[red]", "[/]", "[bold", "[@click=app.quit]x[/]", "a[b]c[/b]\\[d"]


class MarkupOps:
    """A ClusterOps stand-in whose every word comes back carrying the text."""

    def __init__(self, text: str, progress: Any) -> None:
        self.text, self.progress = text, progress or (lambda e: None)

    async def __aenter__(self) -> MarkupOps:
        return self

    async def __aexit__(self, *exc: object) -> None:
        pass

    async def start(self) -> StartReport:
        self.progress(NodeProgress("n1", "check", "ok", f"Python {self.text}"))
        self.progress(NodeProgress("n2", "start", "failed", f"ray said {self.text}"))
        raise ClusterError(f"the head did not start: {self.text}")

    async def logs(self, node: str, lines: int = 200) -> dict[str, list[str]]:
        return {f"raylet {self.text}.out": [f"line {self.text}"]}


def markup_app(text: str, tmp_path: Any) -> GridApp:
    config = ClusterConfig.model_validate(
        {
            "name": f"lab {text}",
            "nodes": [
                {"name": "n1", "host": text, "role": "head"},
                {"name": "n2", "host": f"h{text}"},
            ],
        }
    )
    hub = MetricsHub(config)
    hub.mark_state("n1", NodeState.DOWN, f"refused: {text}")
    backend = Backend(
        config=config, prefs=Prefs(tmp_path / "prefs.json"), hub=hub, streaming=False, ray=False
    )
    backend.ops_factory = lambda progress: MarkupOps(text, progress)  # type: ignore[assignment,return-value]
    return make_app(backend)


@pytest.mark.parametrize("text", TEXTS)
async def test_text_is_shown_literally_everywhere(text: str, tmp_path: Any) -> None:
    app = markup_app(text, tmp_path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.pause()
        assert f"lab {text}" in screen_text(app)  # the header

        # The confirmation says the cluster's name; the failure comes back as a notification
        # and in the progress view, with each node's own message.
        await pilot.press("u")
        assert isinstance(app.screen, ConfirmScreen)
        assert f"Start Ray on lab {text}?" in screen_text(app)
        await pilot.press("y")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, ClusterProgressScreen)
        shown = screen_text(app)
        assert f"check: ok · Python {text}" in shown
        assert f"start: failed · ray said {text}" in shown
        assert f"failed: the head did not start: {text}" in shown
        messages = [n.message for n in app._notifications]
        assert messages == [f"the head did not start: {text}"]
        assert f"the head did not start: {text}" in shown  # the toast, drawn as it is
        app.clear_notifications()
        await pilot.press("escape")

        # The node detail shows the host and the node's reason; the logs show file names
        # and lines as they are.
        table = app.screen.query_one(NodesTable)
        while table.current_node != "n1":
            await pilot.press("down")
        await pilot.press("enter")
        assert isinstance(app.screen, NodeDetailScreen)
        shown = screen_text(app)
        assert text in shown and f"refused: {text}" in shown
        await pilot.press("escape", "l")
        assert isinstance(app.screen, RayLogScreen)
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert f"==> raylet {text}.out <==" in app.screen.query_one(Log).lines
        assert f"line {text}" in screen_text(app)
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)

        # A notification made of the text alone.
        app.notify(f"toast {text}", title=f"title {text}")
        await pilot.wait_for_scheduled_animations()
        await pilot.pause()
        shown = screen_text(app)
        assert f"toast {text}" in shown and f"title {text}" in shown
        assert app.is_running
