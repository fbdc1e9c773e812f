"""Suite-wide collection rules."""

from __future__ import annotations

import os
import signal

import pytest


def pytest_configure(config: pytest.Config) -> None:
    """A suite started in the background by a non-interactive shell (`pytest ... &`)
    inherits SIGINT ignored, and so would every CLI it runs: a Ctrl-C test's process then
    never sees its SIGINT (test_ctrl_c_mid_transfer_leaves_nothing waited out its 60 s so,
    and its store, left running, filled the next test's node). Children get the default."""
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    # Every demo a test starts (and the CLIs it runs, which inherit this) runs without Ray's
    # dashboard: it costs each start ~5 s. Only the job tests turn it on (BoostCluster).
    os.environ["GRIDTUI_DEMO_DASHBOARD"] = "off"


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test that starts Ray (marked `ray`) runs in one xdist group, so under
    `pytest -n 2 --dist loadgroup` they run one after another on one worker: they share
    the demo's fixed addresses and ports. Everything else, the in-process SSH servers on
    free ports included, runs beside them."""
    for item in items:
        if item.get_closest_marker("ray"):
            item.add_marker(pytest.mark.xdist_group("cluster"))
    # The modules on the shared demo (tests/integration/conftest.py) run one after another,
    # where the first of them was (in the order their SHARED_DEMO_ORDER says, 0 unless
    # set): the demo stops after the last, before any test that needs its ports free
    # (test_demo) or starts a cluster of its own.
    shared = [i for i in items if "shared_demo" in getattr(i, "fixturenames", ())]
    if shared:
        first = items.index(shared[0])  # no item before it is moved
        shared.sort(key=lambda i: getattr(getattr(i, "module", None), "SHARED_DEMO_ORDER", 0))
        rest = [i for i in items if "shared_demo" not in getattr(i, "fixturenames", ())]
        items[:] = rest[:first] + shared + rest[first:]


@pytest.fixture(autouse=True)
def notifications_stay(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests read what the console said from its notifications; on a loaded machine a test
    can outlast Textual's 5 s default and see earlier ones vanish (shifting any index into
    the list). Each one stays for the test, whatever timeout the console gave it."""
    from textual.app import App

    notify = App.notify

    def kept(self: App[object], message: str, **kwargs: object) -> None:
        notify(self, message, **{**kwargs, "timeout": 3600.0})  # type: ignore[arg-type]

    monkeypatch.setattr(App, "notify", kept)
