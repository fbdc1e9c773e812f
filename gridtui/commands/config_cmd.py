"""`gridtui config check`: validate a cluster file and print every problem with its line."""

from __future__ import annotations

import argparse
import sys

from gridtui.config import find_config, load_config


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("config", help="check a cluster file")
    inner = parser.add_subparsers(dest="config_command", required=True)
    check = inner.add_parser("check", help="validate a cluster file; exit 2 when it has errors")
    # SUPPRESS: without it this -c would overwrite a `gridtui -c FILE config check`.
    check.add_argument(
        "-c",
        "--config",
        default=argparse.SUPPRESS,
        help="the cluster file (default: the lookup order)",
    )
    check.set_defaults(func=check_command)


def check_command(args: argparse.Namespace) -> int:
    path = find_config(getattr(args, "config", None))
    if path is None:
        print(
            "gridtui: no cluster file found (-c, $GRIDTUI_CONFIG, ./gridtui.yaml, "
            "~/.config/gridtui/cluster.yaml)",
            file=sys.stderr,
        )
        return 2
    config = load_config(path)  # a ConfigError reaches the CLI's one handler: exit 2
    print(
        f"{path}: ok: cluster {config.name!r}, {len(config.nodes)} nodes, head {config.head.name}"
    )
    return 0
