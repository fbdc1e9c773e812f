"""Fixtures for real-SSH tests (in-process asyncssh servers on 127.0.0.2..4) and the demo
cluster shared by the Ray modules that leave nothing behind."""

from __future__ import annotations

import asyncio
import socket
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from gridtui.config import ClusterConfig, parse_config
from gridtui.services.cluster import demo

sys.path.insert(0, str(Path(__file__).parent))  # sshd.py is a helper module, not a package

from boost_cluster import BoostCluster
from sshd import SshCluster


@pytest.fixture
def no_ssh_agent(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keys from the developer's own agent must not decide an auth test."""
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)


@pytest.fixture
async def ssh_servers(tmp_path: Path, no_ssh_agent: None) -> AsyncIterator[SshCluster]:
    """Three running servers on 127.0.0.2-4, their known_hosts and a client key."""
    cluster = SshCluster(tmp_path, ["127.0.0.2", "127.0.0.3", "127.0.0.4"])
    await cluster.start()
    try:
        yield cluster
    finally:
        await cluster.stop()


@pytest.fixture
def ssh_cluster(ssh_servers: SshCluster) -> tuple[SshCluster, ClusterConfig]:
    """The servers and a validated ClusterConfig pointing at them (node python: this one)."""
    text = ssh_servers.config_yaml(interval=0.25, python=sys.executable)
    return ssh_servers, parse_config(text, "ssh-test.yaml")


# One demo cluster serves every module that asks for `shared_demo`: each start costs ~20 s,
# and more on a loaded machine. Without Ray's dashboard: its processes would add to the
# head's CPU, which the offload tests need quiet (test_work has a demo of its own with it).
# A module may use it only if it leaves nothing behind; that is checked as each module
# ends, from an independent driver. The root conftest runs these modules one after another,
# and the cluster stops as soon as the next test does not use it (test_demo needs its
# ports free).
_shared: list[BoostCluster] = []
OWN_NAMESPACE = "gridtui"


def leftovers(cl: BoostCluster, *, every_node: bool = True) -> list[str]:
    """What a module left on the shared demo: placement groups, actors other than
    gridtui's own service actors, resources not free, reservations, stored objects, an
    offload policy on, fences or drains, a node not alive or draining."""
    from gridtui.services.memory.client import MemoryService

    seen = cl.probe()
    found = [f"group {g['name']} ({g['state']})" for g in seen["groups"]]
    own = [a for a in seen["actors"] if a["namespace"] == OWN_NAMESPACE
           and a["name"].startswith(("gridtui-", "gridtui:"))]  # fmt: skip
    found += [f"actor {a['class']} {a['namespace']}/{a['name']}"
              for a in seen["actors"] if a not in own]  # fmt: skip
    for name, node in seen["nodes"].items():
        held: dict[str, float] = {}
        for a in own:
            if a["node_id"] == node["node_id"]:
                for k, v in a["resources"].items():
                    held[k] = held.get(k, 0.0) + v
        for key in ("CPU", "GPU", "memory"):
            free = node["available"].get(key, 0.0) + held.get(key, 0.0)
            if abs(free - node["total"].get(key, 0.0)) > 1e-6:
                found.append(f"{name}: {key} {free} of {node['total'].get(key, 0.0)} free")
        if node["draining"]:
            found.append(f"{name} draining")
    if every_node and sorted(seen["nodes"]) != sorted(n.name for n in cl.config.nodes):
        found.append(f"alive nodes: {sorted(seen['nodes'])}")
    found += [f"reservation {r.id} {r.state}" for r in cl.run(cl.control.reservations)]
    found += [f"stored {o.key}" for o in cl.run(MemoryService(cl.config).objects)]
    status = cl.run(cl.control.offload_status)
    if status["enabled"] or status["fenced"] or status["drained"]:
        found.append(f"offload: enabled {status['enabled']}, fenced {status['fenced']}, "
                     f"drained {status['drained']}")  # fmt: skip
    return found


def heal(cl: BoostCluster) -> None:
    """Three alive nodes again after a module that killed one (a new raylet for it; a new
    head, and a new driver here, if the head was gone)."""
    head = (cl.config.head.host, cl.config.ray.port)
    try:
        socket.create_connection(head, timeout=2).close()
    except OSError:  # the head is gone, and with it this process's driver
        cl.drop_driver()
        asyncio.run(demo.ensure_demo_running())
        cl.reconnect()
    else:  # attaches to a healthy demo at once; else starts the nodes that are gone
        asyncio.run(demo.ensure_demo_running())


@pytest.fixture(scope="module")
def shared_demo(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[BoostCluster]:
    """The session's demo cluster; at the module's end, nothing of the module may be left."""
    if not _shared:
        _shared.append(BoostCluster(tmp_path_factory.mktemp("demo")))
    cl = _shared[0]
    yield cl
    if _next_uses_shared:  # no need to bring a killed node back for a demo about to stop
        heal(cl)
    left = leftovers(cl, every_node=_next_uses_shared)
    assert not left, f"{request.module.__name__} left on the shared demo: {left}"


def _close_shared() -> None:
    while _shared:
        _shared.pop().close()


_next_uses_shared = False  # whether the test after the one being torn down uses it


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    global _next_uses_shared
    _next_uses_shared = nextitem is not None and "shared_demo" in nextitem.fixturenames
    yield
    if _shared and not _next_uses_shared:
        _close_shared()


def pytest_sessionfinish() -> None:
    _close_shared()
