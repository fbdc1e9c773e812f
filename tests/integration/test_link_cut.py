"""A node whose network link is cut (netns + veth) shows DOWN while the rest keeps updating."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sshd import SshCluster

from gridtui.backend import make_backend
from gridtui.config import parse_config
from gridtui.model.nodes import NodeState
from gridtui.prefs import Prefs
from gridtui.ui.app import make_app

HERE = Path(__file__).parent

pytestmark = [
    pytest.mark.netns,
    pytest.mark.skipif(os.geteuid() != 0, reason="network namespaces need root"),
    pytest.mark.skipif(shutil.which("ip") is None, reason="iproute2 (`ip`) is not installed"),
]


def ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=20)


class Namespace:
    """One host behind a veth pair: 10.231.N.2 inside, 10.231.N.1 on our side."""

    def __init__(self) -> None:
        tag = uuid.uuid4().hex[:6]
        self.name = f"gridtui-{tag}"
        self.outer, self.inner = f"gto{tag}", f"gti{tag}"
        octet = int(tag[:2], 16) % 200 + 20
        self.near, self.far = f"10.231.{octet}.1", f"10.231.{octet}.2"

    def create(self) -> None:
        ip("netns", "add", self.name)
        ip("link", "add", self.outer, "type", "veth", "peer", "name", self.inner)
        ip("link", "set", self.inner, "netns", self.name)
        ip("addr", "add", f"{self.near}/30", "dev", self.outer)
        ip("link", "set", self.outer, "up")
        ip("-n", self.name, "addr", "add", f"{self.far}/30", "dev", self.inner)
        ip("-n", self.name, "link", "set", self.inner, "up")
        ip("-n", self.name, "link", "set", "lo", "up")

    def cut(self) -> None:
        # Dropping every packet, not closing anything: the TCP connection goes silent.
        ip("link", "set", self.outer, "down")

    def restore(self) -> None:
        ip("link", "set", self.outer, "up")

    def delete(self) -> None:
        subprocess.run(["ip", "netns", "delete", self.name], capture_output=True)
        subprocess.run(["ip", "link", "delete", self.outer], capture_output=True)


@pytest.fixture
def namespace() -> Iterator[Namespace]:
    ns = Namespace()
    try:
        ns.create()
    except (subprocess.CalledProcessError, OSError) as exc:
        ns.delete()
        pytest.skip(f"cannot create a network namespace here: {exc}")
    try:
        yield ns
    finally:
        ns.delete()


@pytest.fixture
def far_server(namespace: Namespace, tmp_path: Path) -> Iterator[dict]:
    workdir = tmp_path / "far"
    workdir.mkdir()
    child = subprocess.Popen(
        [
            "ip",
            "netns",
            "exec",
            namespace.name,
            sys.executable,
            str(HERE / "sshd_child.py"),
            namespace.far,
            str(workdir),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        line = child.stdout.readline()
        assert line, "the SSH server in the namespace did not start"
        yield json.loads(line)
    finally:
        if child.stdin:
            child.stdin.close()
        try:
            child.wait(10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


async def test_cut_link_shows_down_while_others_update(
    ssh_servers: SshCluster, far_server: dict, namespace: Namespace, tmp_path: Path
) -> None:
    near = ssh_servers.config_yaml(interval=0.5, python=sys.executable)
    near = near.replace("nodes:\n", "")
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text(ssh_servers.known_hosts.read_text() + far_server["known_hosts"])
    near = near.replace(f"known_hosts: {ssh_servers.known_hosts}", f"known_hosts: {known_hosts}")
    text = near.replace("  - name: n1", "nodes:\n  - name: n1", 1)
    text += (
        f"  - name: far\n    host: {far_server['host']}\n    port: {far_server['port']}\n"
        f"    user: gridtui\n    identity: {far_server['identity']}\n    python: {sys.executable}\n"
    )
    config = parse_config(text, "cut.yaml")
    backend = make_backend(config, prefs=Prefs(tmp_path / "prefs.json"))
    app = make_app(backend)
    hub = backend.metrics

    def state(name: str) -> NodeState:
        node = app.snapshot.node(name)
        assert node is not None
        return node.state

    def table_state(name: str) -> str:
        from gridtui.ui.widgets.nodes_table import NodesTable

        table = app.screen.query_one(NodesTable)
        for i in range(table.row_count):
            row = [str(c) for c in table.get_row_at(i)]
            if row[0] == name:
                return row[2]
        raise AssertionError(f"{name} is not in the table")

    async with app.run_test(size=(140, 40)) as pilot:
        for _ in range(240):
            await pilot.pause(0.25)
            if all(state(n) is NodeState.UP for n in ("n1", "n2", "n3", "far")):
                break
        assert table_state("far") == "UP"
        namespace.cut()
        for _ in range(80):
            await pilot.pause(0.25)
            if table_state("far") == "DOWN":
                break
        assert table_state("far") == "DOWN"
        assert state("far") is NodeState.DOWN
        # The rest keeps updating: new samples arrive and the console answers keys.
        before = {n: len(hub.history(n, "cpu")) for n in ("n1", "n2", "n3")}
        await pilot.pause(2.0)
        assert all(len(hub.history(n, "cpu")) > before[n] for n in before)
        assert all(state(n) is NodeState.UP for n in ("n1", "n2", "n3"))
        await pilot.press("question_mark")
        await pilot.pause(0.2)
        assert app.screen.__class__.__name__ == "HelpScreen"
        await pilot.press("escape")
        # The link comes back: the node reconnects by itself and shows UP again.
        namespace.restore()
        for _ in range(160):
            await pilot.pause(0.25)
            if table_state("far") == "UP":
                break
        assert table_state("far") == "UP"
