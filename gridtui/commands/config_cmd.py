"""`gridtui config check`: validate a cluster file and print every problem with its line."""

from __future__ import annotations

import argparse

from gridtui.commands import options
from gridtui.config import load_config, require_config


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("config", help="check a cluster file")
    inner = parser.add_subparsers(dest="config_command", required=True)
    check = inner.add_parser("check", help="validate a cluster file; exit 2 when it has errors")
    options.add_config(check)
    check.set_defaults(func=check_command)


def check_command(args: argparse.Namespace) -> int:
    path = require_config(getattr(args, "config", None))
    config = load_config(path)  # a ConfigError reaches the CLI's one handler: exit 2
    print(
        f"{path}: ok: cluster {config.name!r}, {len(config.nodes)} nodes, head {config.head.name}"
    )
    return 0
