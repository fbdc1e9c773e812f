"""The argv gridtui runs on nodes, node matching, and the node script's process selection."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

from gridtui.agent import nodescript, procfs
from gridtui.config import parse_config
from gridtui.services.cluster import node_commands as commands
from gridtui.services.ray.view import match_nodes, ray_infos

CONFIG = """
name: lab
ray: {port: 6400, object_store_memory: 256MiB}
nodes:
  - name: head
    host: 10.0.0.1
    role: head
    python: /opt/py/bin/python
    resources: {cpu: 4, gpu: 1, memory: 8GiB, custom: {ssd: 1}}
  - name: w1
    host: 10.0.0.2
  - name: w2
    host: 10.0.0.3
    python: "~/env/bin/python"
    transport: ssh
"""


def test_head_start_flags() -> None:
    config = parse_config(CONFIG)
    argv = commands.start_argv(config.head, config, head=True)
    assert argv[:3] == ["/opt/py/bin/python", "-", "start"]
    assert argv[3:5] == ["--temp-dir", "/tmp/gridtui/lab/head"]
    # Token auth by default: the token's path reaches the node script, never the token.
    assert argv[5:10] == [
        "--auth-mode", "token", "--auth-token-file", "/tmp/gridtui/lab/head.ray-token", "--",
    ]  # fmt: skip
    flags = argv[10:]
    for flag in (
        "--head",
        "--port=6400",
        "--ray-client-server-port=10001",
        # Ray's dashboard (jobs, the state API) on its fixed ports (docs/work.md), and never
        # on the node's address: the dashboard and its job server stay on loopback.
        "--include-dashboard=true",
        "--dashboard-host=127.0.0.1",
        "--dashboard-port=8265",
        "--dashboard-agent-listen-port=52365",
        "--node-ip-address=10.0.0.1",
        "--num-cpus=4",
        "--num-gpus=1",
        f"--memory={8 * 1024**3}",
        f"--object-store-memory={256 * 1024**2}",
        '--resources={"ssd": 1.0}',
        "--labels=gridtui.node=head",
        "--temp-dir=/tmp/gridtui/lab/head",
        "--disable-usage-stats",
    ):
        assert flag in flags
    # Lean (the demo) keeps the autoscaler monitor too: `ray status` needs it.
    lean = commands.ray_start_args(config.head, config, head=True, lean=True)
    assert "--no-monitor" not in flags + lean and "--include-log-monitor=false" in lean


def test_worker_flags_and_interpreters() -> None:
    config = parse_config(CONFIG)
    w1, w2 = config.node("w1"), config.node("w2")
    flags = commands.ray_start_args(w1, config, head=False, lean=True)
    assert "--address=10.0.0.1:6400" in flags and "--head" not in flags
    assert "--include-log-monitor=false" in flags
    assert not any(f.startswith("--num-cpus") for f in flags)
    # No python in the file: the env `cluster install` manages, home-relative over SSH.
    assert commands.ray_python(w1, config) == ".gridtui/venv/bin/python"
    assert commands.ray_python(w2, config) == "env/bin/python"
    assert commands.venv_argv(w1, config, "2.60.0")[0] == "python3"


def test_auth_settings_reach_every_node_command() -> None:
    config = parse_config(CONFIG)
    w1 = config.node("w1")
    view = commands.view_argv(config)
    assert view[view.index("--auth-mode") + 1] == "token"
    assert view[view.index("--auth-token-file") + 1] == "/tmp/gridtui/lab/head.ray-token"
    worker = commands.start_argv(w1, config, head=False)
    assert worker[worker.index("--auth-token-file") + 1] == "/tmp/gridtui/lab/w1.ray-token"
    assert not any(a.startswith("--dashboard-host") for a in worker)  # a head's flag only
    # Beside the temp dir, not in it: a command naming the file is not one of the node's
    # Ray processes (stop would kill it, status would count it).
    tmp = commands.temp_dir(w1, config)
    assert not procfs.mentions([commands.node_token_path(w1, config)], tmp)
    off = parse_config(CONFIG.replace("ray: {", "ray: {auth: disabled, "))
    assert commands.auth_args(off.node("w1"), off) == ["--auth-mode", "disabled"]
    start = commands.start_argv(off.node("w1"), off, head=False)
    assert "--auth-token-file" not in start


def test_the_node_script_sets_both_auth_variables_whatever_the_env_holds() -> None:
    ambient = {"RAY_AUTH_TOKEN": "someone-elses", "RAY_AUTH_TOKEN_PATH": "/home/x/.ray/t", "A": "1"}
    token = argparse.Namespace(auth_mode="token", auth_token_file="/t/n1.ray-token")
    env = nodescript.ray_auth_env(token, dict(ambient))
    assert env == {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN_PATH": "/t/n1.ray-token", "A": "1"}
    off = argparse.Namespace(auth_mode="disabled", auth_token_file=None)
    assert nodescript.ray_auth_env(off, dict(ambient)) == {"RAY_AUTH_MODE": "disabled", "A": "1"}


def test_the_node_script_refuses_a_missing_or_shared_token(tmp_path) -> None:
    path = tmp_path / "n1.ray-token"
    args = argparse.Namespace(auth_mode="token", auth_token_file=str(path))
    assert nodescript.token_problem(args).startswith(f"no Ray token at {path}")
    path.write_text("x")
    path.chmod(0o644)
    assert nodescript.token_problem(args) == f"the Ray token {path} is not private (mode 644)"
    path.chmod(0o600)
    assert nodescript.token_problem(args) == ""
    out = subprocess.run(
        [sys.executable, "-", "start", "--temp-dir", str(tmp_path / "n1"), "--auth-mode",
         "token", "--auth-token-file", str(tmp_path / "missing"), "--", "--head"],
        input=commands.node_script(), capture_output=True, text=True,
    )  # fmt: skip
    assert out.returncode == 1 and json.loads(out.stdout)["exit"] == 2
    assert "no Ray token at" in json.loads(out.stdout)["output"]


def test_check_node_problems() -> None:
    config = parse_config(
        "ray: {temp_dir: /a/very/long/path/that/does/not/leave/room}\n"
        "nodes:\n  - {name: bad-, host: 127.0.0.1}\n"
    )
    problems = commands.check_node(config.nodes[0], config)
    assert len(problems) == 3
    assert any("127.0.0.2" in p for p in problems)


def test_match_nodes_prefers_label_and_alive() -> None:
    config = parse_config(CONFIG)
    entries = [
        {
            "node_id": "old",
            "alive": False,
            "address": "10.0.0.1",
            "labels": {"gridtui.node": "head"},
        },
        {
            "node_id": "new",
            "alive": True,
            "address": "10.0.0.1",
            "labels": {"gridtui.node": "head"},
            "total": {"CPU": 4.0, "object_store_memory": 100.0},
            "available": {"CPU": 1.0, "object_store_memory": 40.0},
            "store_used": 60.0,
        },
        {"node_id": "w1", "alive": True, "address": "10.0.0.2", "labels": {}},
        {"node_id": "x", "alive": True, "address": "10.0.0.3", "labels": {"gridtui.node": "zz"}},
    ]
    matched = match_nodes(config, entries)
    assert matched["head"]["node_id"] == "new"
    assert matched["w1"]["node_id"] == "w1"
    assert "w2" not in matched  # its address belongs to a node Ray knows by another name
    info = ray_infos(config, entries)["head"]
    assert (info.cpu_total, info.cpu_available, info.object_store_available) == (4.0, 1.0, 40.0)


def test_marker_is_a_whole_path() -> None:
    assert procfs.mentions(["--temp-dir=/tmp/g/a"], "/tmp/g/a")
    assert procfs.mentions(["--log=/tmp/g/a/session_1/logs"], "/tmp/g/a")
    assert not procfs.mentions(["--temp-dir=/tmp/g/ab"], "/tmp/g/a")


def test_client_server_matches_its_heads_address_as_an_exact_word() -> None:
    ours = [
        "/v/bin/python", "-m", "ray.util.client.server", "--address=10.0.0.1:6400",
        "--host=10.0.0.1", "--port=10001", "--mode=proxy", "--node-id=ab12",
    ]  # fmt: skip
    assert procfs.serves_clients_of(ours, "10.0.0.1:6400")
    # Another cluster's client server on this machine, or a longer port, is not ours.
    assert not procfs.serves_clients_of(ours, "10.0.0.1:640")
    assert not procfs.serves_clients_of(ours, "10.0.0.2:6400")
    other = [w.replace("6400", "6401") for w in ours]
    assert not procfs.serves_clients_of(other, "10.0.0.1:6400")
    # A worker's raylet (and any other process) naming the head's GCS is not a client server.
    raylet = ["/v/raylet", "--gcs-address=10.0.0.1:6400", "--node_ip_address=10.0.0.2"]
    assert not procfs.serves_clients_of(raylet, "10.0.0.1:6400")
    driver = ["/v/bin/python", "job.py", "--address=10.0.0.1:6400"]
    assert not procfs.serves_clients_of(driver, "10.0.0.1:6400")


def test_stop_ends_the_client_server_of_its_gcs_only(tmp_path) -> None:
    gcs = "127.0.0.9:6999"  # no Ray here: processes that merely carry the argv words
    sleep = [sys.executable, "-c", "import time; time.sleep(30)"]
    ours = subprocess.Popen([*sleep, "ray.util.client.server", f"--address={gcs}"])
    raylet = subprocess.Popen([*sleep, f"--gcs-address={gcs}"])
    other = subprocess.Popen([*sleep, "ray.util.client.server", "--address=127.0.0.9:6998"])
    try:
        stop = ["stop", "--marker", str(tmp_path / "none"), "--client-of", gcs, "--grace", "2"]
        out = subprocess.run(
            [sys.executable, "-", *stop],
            input=commands.node_script(),
            capture_output=True,
            text=True,
            check=True,
        )
        assert json.loads(out.stdout)["terminated"] == [ours.pid]
        ours.wait(5)
        assert raylet.poll() is None and other.poll() is None
    finally:
        for proc in (ours, raylet, other):
            proc.kill()
            proc.wait()


def test_only_the_heads_stop_and_listing_take_its_client_server() -> None:
    config = parse_config(CONFIG)
    head, w1 = config.head, config.node("w1")
    for argv in (commands.stop_argv(head, config), commands.procs_argv(head, config)):
        assert argv[argv.index("--client-of") + 1] == "10.0.0.1:6400"
    for argv in (commands.stop_argv(w1, config), commands.procs_argv(w1, config)):
        assert "--client-of" not in argv


def test_find_pids_takes_children_and_skips_itself(tmp_path) -> None:
    marker = str(tmp_path / "node")
    code = "import subprocess,sys,time; subprocess.Popen([sys.executable,'-c','import time; time.sleep(30)']); time.sleep(30)"
    parent = subprocess.Popen([sys.executable, "-c", code, f"--temp-dir={marker}"])
    try:
        for _ in range(50):
            pids, _table = nodescript.find_pids([marker])
            if len(pids) == 2:
                break
            subprocess.run(["sleep", "0.1"])
        assert parent.pid in pids and len(pids) == 2
        out = subprocess.run(
            [sys.executable, "-", "stop", "--marker", marker, "--grace", "2"],
            input=commands.node_script(),
            capture_output=True,
            text=True,
            check=True,
        )
        result = json.loads(out.stdout)
        assert sorted(result["terminated"]) == sorted(pids) and result["left"] == []
        parent.wait(5)
        assert nodescript.find_pids([marker])[0] == set()
    finally:
        parent.kill()
