"""Node-side helper run as `python - CMD ...` with this file on stdin: stdlib only, no install.

Subcommands: `version`, `procs`, `stop`, `start` (ray start in its own session), `view`
(Ray's node table, the one place on a node that imports ray), `logs` and `venv`. Each prints
one JSON document on stdout. Arguments always arrive as argv words, never as built strings.
"""

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time

from gridtui.agent.procfs import (  # inlined when shipped
    alive,
    ancestors,
    descendants,
    owned,
    proc_table,
)


def _out(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


# -- versions -------------------------------------------------------------------------------


def cmd_version(args):
    ray_version = None
    try:
        from importlib import metadata

        ray_version = metadata.version("ray")
    except Exception:
        ray_version = None
    _out(
        {
            "python": "{}.{}.{}".format(*sys.version_info[:3]),
            "minor": "{}.{}".format(*sys.version_info[:2]),
            "ray": ray_version,
            "executable": sys.executable,
        }
    )
    return 0


# -- processes ------------------------------------------------------------------------------


def _ancestors(table):
    """Our own chain (this script, the shell that ran it): it names the marker too."""
    return ancestors({pid: proc[0] for pid, proc in table.items()})


def find_pids(markers, table=None, gcs=()):
    """Processes naming any marker in their argv, and (on a head) Ray's client server for
    any GCS address in `gcs`, plus all their descendants."""
    table = proc_table() if table is None else table
    skip = _ancestors(table)
    roots = {pid for pid, proc in table.items() if pid not in skip and owned(proc[3], markers, gcs)}
    return descendants(roots, {pid: proc[0] for pid, proc in table.items()}, skip), table


def auth_mode_of(pid):
    """The RAY_AUTH_MODE a process runs with ("" when unset), or None when its environment
    cannot be read: what `status` compares with the cluster file's wish."""
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            words = f.read().split(b"\0")
    except OSError:
        return None
    for word in words:
        if word.startswith(b"RAY_AUTH_MODE="):
            return word.split(b"=", 1)[1].decode("utf-8", "replace")
    return ""


def _describe(pid, table):
    ppid, _, rss, argv, _ = table[pid]
    name = os.path.basename(argv[0]) if argv else "?"
    out = {"pid": pid, "ppid": ppid, "rss": rss, "name": name, "cmd": " ".join(argv)[:160]}
    if name in ("raylet", "gcs_server"):
        out["auth"] = auth_mode_of(pid)
    return out


def cmd_procs(args):
    pids, table = find_pids(args.marker, gcs=args.client_of)
    _out({"procs": [_describe(p, table) for p in sorted(pids)]})
    return 0


def cmd_stop(args):
    pids, _ = find_pids(args.marker, gcs=args.client_of)
    terminated, killed = [], []
    for pid in sorted(pids):
        try:
            os.kill(pid, signal.SIGTERM)
            terminated.append(pid)
        except OSError:
            pass
    deadline = time.monotonic() + args.grace
    while time.monotonic() < deadline and any(alive(p) for p in terminated):
        time.sleep(0.1)
    # A second look catches workers the raylet forked while it was shutting down.
    again, _ = find_pids(args.marker, gcs=args.client_of)
    for pid in sorted(set(terminated) | again):
        if alive(pid):
            try:
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
            except OSError:
                pass
    time.sleep(0.1 if killed else 0)
    left = [p for p in killed if alive(p)]
    _out({"terminated": terminated, "killed": killed, "left": left})
    return 0 if not left else 1


# -- starting Ray ---------------------------------------------------------------------------


def ray_auth_env(args, env):
    """Ray's auth settings for this node's processes, set explicitly either way: left to
    Ray, a token in ~/.ray turns auth on for a head but not for a joining worker, which
    then cannot join. RAY_AUTH_TOKEN goes: Ray would prefer it to the cluster's file."""
    env.pop("RAY_AUTH_TOKEN", None)
    if args.auth_mode == "token":
        env["RAY_AUTH_MODE"] = "token"
        env["RAY_AUTH_TOKEN_PATH"] = args.auth_token_file
    else:
        env["RAY_AUTH_MODE"] = "disabled"
        env.pop("RAY_AUTH_TOKEN_PATH", None)
    return env


def token_problem(args):
    """Why the token file cannot serve (missing, not private), or ''."""
    if args.auth_mode != "token":
        return ""
    try:
        info = os.stat(args.auth_token_file)
    except OSError as exc:
        return f"no Ray token at {args.auth_token_file}: {exc.strerror or exc}"
    if info.st_mode & 0o077:
        return (
            f"the Ray token {args.auth_token_file} is not private (mode {info.st_mode & 0o777:o})"
        )
    return ""


def cmd_start(args):
    """`ray start` in a new session: its daemons must not share the caller's process group,
    which an SSH server may kill when the command's channel closes."""
    os.makedirs(args.temp_dir, exist_ok=True)
    problem = token_problem(args)
    if problem:
        _out({"exit": 2, "output": problem})
        return 1
    log_path = os.path.join(args.temp_dir, "gridtui-start.log")
    argv = [sys.executable, "-m", "ray.scripts.scripts", "start", *args.ray_args]
    env = ray_auth_env(args, dict(os.environ, RAY_USAGE_STATS_ENABLED="0"))
    with open(log_path, "wb") as log, open(os.devnull, "rb") as devnull:
        # Output goes to a file, not our pipe: a daemon holding the pipe would keep the
        # channel open forever.
        code = subprocess.call(
            argv,
            stdin=devnull,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=env,
        )
    with open(log_path, "rb") as log:
        tail = log.read()[-4000:].decode("utf-8", "replace")
    _out({"exit": code, "output": tail})
    return 0 if code == 0 else 1


# -- Ray's view -----------------------------------------------------------------------------


def _port_open(address, timeout=1.0):
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=timeout):
            return True
    except OSError:
        return False


def ray_view(state, nodes=None):
    """Ray's nodes with totals, availability and labels, as plain dicts.

    `state` is a ray GlobalState (from ray.init or from the GCS address alone). The raylet
    lowers its available object_store_memory as the store fills, so use = total - available."""
    nodes = state.node_table() if nodes is None else nodes
    available = state.available_resources_per_node()
    try:  # {node id: deadline}: the nodes Ray drains (they take nothing new)
        draining = set(state.get_draining_nodes())
    except Exception:
        draining = set()
    out = []
    for node in nodes:
        node_id = node.get("NodeID", "")
        total = dict(node.get("Resources") or {})
        avail = dict(available.get(node_id, {}))
        alive = bool(node.get("Alive"))
        store = total.get("object_store_memory")
        used = None
        if alive and store is not None and "object_store_memory" in avail:
            used = max(0.0, store - avail["object_store_memory"])
        out.append(
            {
                "node_id": node_id,
                "alive": alive,
                "address": node.get("NodeManagerAddress", ""),
                "port": node.get("NodeManagerPort", 0),
                "labels": dict(node.get("Labels") or {}),
                "total": total,
                "available": avail,
                "store_used": used,
                "draining": alive and node_id in draining,
            }
        )
    return out


def cmd_probe(args):
    """Wait for the GCS port to accept connections: cheap (no ray import), bounded."""
    deadline = time.monotonic() + args.wait
    while not _port_open(args.address):
        if time.monotonic() >= deadline:
            _out({"error": f"the GCS at {args.address} did not answer in {args.wait:g}s"})
            return 3
        time.sleep(0.1)
    _out({"open": True})
    return 0


def cmd_view(args):
    problem = token_problem(args)
    if problem:
        _out({"error": problem})
        return 3
    ray_auth_env(args, os.environ)  # before Ray is imported: it reads them once
    deadline = time.monotonic() + args.wait
    while not _port_open(args.address):
        if time.monotonic() >= deadline:
            _out({"error": f"the GCS at {args.address} did not answer in {args.wait:g}s"})
            return 3
        time.sleep(0.2)
    # Private Ray, listed in gridtui/actors/ray_private.py (this script runs alone on nodes).
    from ray._private.internal_api import get_state_from_address

    state = get_state_from_address(args.address)
    while True:
        try:
            view = ray_view(state)
        except Exception as exc:
            view, error = None, f"{exc.__class__.__name__}: {exc}"
        if view is not None:
            alive = sum(1 for n in view if n["alive"])
            if alive >= args.expect or time.monotonic() >= deadline:
                _out({"nodes": view})
                return 0
        elif time.monotonic() >= deadline:
            _out({"error": error})
            return 3
        time.sleep(0.25)


# -- logs -----------------------------------------------------------------------------------


def cmd_logs(args):
    """The tail of a node's Ray logs (its newest session), for 'did not join' reports."""
    logs_dir = os.path.join(args.temp_dir, "session_latest", "logs")
    files = []
    if os.path.isdir(logs_dir):
        for name in sorted(os.listdir(logs_dir)):
            if any(name.startswith(p) for p in args.prefix) and name.endswith((".out", ".err")):
                files.append(os.path.join(logs_dir, name))
    start_log = os.path.join(args.temp_dir, "gridtui-start.log")
    if os.path.isfile(start_log):
        files.insert(0, start_log)
    out = {}
    for path in files:
        try:
            with open(path, "rb") as f:
                f.seek(0, 2)
                f.seek(max(0, f.tell() - args.bytes))
                lines = f.read().decode("utf-8", "replace").splitlines()
        except OSError:
            continue
        out[os.path.basename(path)] = lines[-args.lines :]
    _out({"dir": logs_dir, "files": out})
    return 0


# -- environments ---------------------------------------------------------------------------


def cmd_venv(args):
    """Create (or reuse) a venv and install the wanted Ray into it with pip."""
    path = os.path.expanduser(args.path)
    py = os.path.join(path, "bin", "python")
    steps = []
    if not os.path.exists(py):
        code = subprocess.call([sys.executable, "-m", "venv", path])
        steps.append(["venv", code])
        if code != 0:
            _out({"python": py, "steps": steps, "ok": False})
            return 1
    code = subprocess.call(
        [py, "-m", "pip", "install", "--quiet", "ray==" + args.ray_version],
        stdout=sys.stderr,
    )
    steps.append(["pip", code])
    _out({"python": py, "steps": steps, "ok": code == 0})
    return 0 if code == 0 else 1


def cmd_pip(args):
    """Install the wanted Ray into this very interpreter (a node whose `python` is set)."""
    code = subprocess.call(
        [sys.executable, "-m", "pip", "install", "--quiet", "ray==" + args.ray_version],
        stdout=sys.stderr,
    )
    _out({"python": sys.executable, "steps": [["pip", code]], "ok": code == 0})
    return 0 if code == 0 else 1


def _auth_options(parser):
    parser.add_argument("--auth-mode", choices=("token", "disabled"), required=True)
    parser.add_argument("--auth-token-file")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="gridtui-node")
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("version").set_defaults(func=cmd_version)
    for name, func in (("procs", cmd_procs), ("stop", cmd_stop)):
        p = sub.add_parser(name)
        p.add_argument("--marker", action="append", required=True)
        p.add_argument("--client-of", action="append", default=[])  # a head's GCS address
        p.add_argument("--grace", type=float, default=5.0)
        p.set_defaults(func=func)
    p = sub.add_parser("start")
    p.add_argument("--temp-dir", required=True)
    _auth_options(p)
    p.add_argument("ray_args", nargs=argparse.REMAINDER)
    p.set_defaults(func=cmd_start)
    p = sub.add_parser("view")
    p.add_argument("--address", required=True)
    p.add_argument("--wait", type=float, default=0.0)
    p.add_argument("--expect", type=int, default=0)
    _auth_options(p)
    p.set_defaults(func=cmd_view)
    p = sub.add_parser("probe")
    p.add_argument("--address", required=True)
    p.add_argument("--wait", type=float, default=0.0)
    p.set_defaults(func=cmd_probe)
    p = sub.add_parser("logs")
    p.add_argument("--temp-dir", required=True)
    p.add_argument("--prefix", action="append", default=None)
    p.add_argument("--lines", type=int, default=20)
    p.add_argument("--bytes", type=int, default=65536)
    p.set_defaults(func=cmd_logs)
    p = sub.add_parser("venv")
    p.add_argument("--path", required=True)
    p.add_argument("--ray-version", required=True)
    p.set_defaults(func=cmd_venv)
    p = sub.add_parser("pip")
    p.add_argument("--ray-version", required=True)
    p.set_defaults(func=cmd_pip)
    args = parser.parse_args(argv)
    if getattr(args, "prefix", "") is None:
        args.prefix = ["raylet", "gcs_server"]
    if getattr(args, "ray_args", None) and args.ray_args[0] == "--":
        args.ray_args = args.ray_args[1:]
    if getattr(args, "auth_mode", "") == "token" and not args.auth_token_file:
        parser.error("--auth-mode token needs --auth-token-file")
    return args.func(args)


if __name__ in ("__main__", "<stdin>"):
    sys.exit(main(sys.argv[1:]))
