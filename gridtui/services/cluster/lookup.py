"""The cluster a headless command or the Python API acts on: the file lookup, else the demo."""

from __future__ import annotations

import contextlib
import socket
import sys
from dataclasses import dataclass
from pathlib import Path

from gridtui.config import ClusterConfig, find_config, load_config
from gridtui.errors import UserError

NO_CLUSTER = (
    "no cluster file (-c FILE, $GRIDTUI_CONFIG, ./gridtui.yaml or "
    "~/.config/gridtui/cluster.yaml) and no demo cluster running; "
    "`gridtui demo start` runs one"
)


class NoCluster(UserError):
    """Nothing to act on: no cluster file anywhere in the lookup, and no demo running."""

    exit_code = 2


@dataclass(frozen=True)
class Cluster:
    config: ClusterConfig
    path: Path | None
    demo: bool


def demo_running() -> bool:
    """Whether the embedded demo was started and its GCS answers (no Ray import)."""
    from gridtui.services.cluster.demo import DEMO_NODES, read_state

    state = read_state()
    port = state.get("port")
    if not isinstance(port, int) or "started" not in state:
        return False
    with (
        contextlib.suppress(OSError),
        socket.create_connection((DEMO_NODES[0][1], port), timeout=0.5),
    ):
        return True
    return False


def find_cluster(explicit: str | None = None, *, announce: bool = True) -> Cluster:
    """-c, $GRIDTUI_CONFIG, ./gridtui.yaml, the XDG file; with none of them, the demo when
    it runs (said on stderr when `announce`); else NoCluster (exit 2). A broken file is a
    ConfigError (exit 2, every problem with its line)."""
    path = find_config(explicit)
    if path is not None:
        return Cluster(load_config(path), path, False)
    if demo_running():
        from gridtui.services.cluster.demo import demo_config

        config = demo_config()
        if announce:
            print(
                f"gridtui: no cluster file; acting on the local demo cluster "
                f"(GCS {config.head.host}:{config.ray.port})",
                file=sys.stderr,
            )
        return Cluster(config, None, True)
    raise NoCluster(NO_CLUSTER)
