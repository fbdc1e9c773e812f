"""One public Python module holds the reservations and the memory store's calls."""

from __future__ import annotations

import inspect

from gridtui import client, memory_api


def test_the_client_module_has_every_documented_call() -> None:
    for name in ("connect", "boost", "share", "release", "reservations", "place"):
        assert callable(getattr(client, name)), name
    for name in ("put", "get", "get_to", "list", "info", "delete"):
        ours, theirs = getattr(client, name), getattr(memory_api, name)
        assert callable(ours), name
        # Same parameters as the memory API's own call (keyword options pass through).
        wanted = [p for p in inspect.signature(theirs).parameters if p != "progress"]
        have = list(inspect.signature(ours).parameters)
        assert have[: len(have) - ("kw" in have)] == wanted[: len(have) - ("kw" in have)], name
