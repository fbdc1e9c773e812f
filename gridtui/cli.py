"""Entry point: `gridtui` opens the console; subcommands run the same services headless."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# Subcommand modules, imported only when their command runs, so the console's first
# frame never pays for Ray or asyncssh imports it does not need yet.
COMMAND_MODULES = ("config_cmd", "cluster_cmd", "demo_cmd", "memory_cmd")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gridtui",
        description="A keyboard-driven console for a pool of machines run by Ray over SSH.",
    )
    parser.add_argument("-c", "--config", help="cluster file (default: the lookup order)")
    parser.add_argument("--theme", help="console theme (remembered for next time)")
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(f"gridtui.commands.{name}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.version:
        from gridtui import __version__

        print(f"gridtui {__version__}")
        return 0
    from gridtui.errors import GridError, one_line

    try:
        if args.command is None:
            from gridtui.ui.console import run_console

            return run_console(args)
        return int(args.func(args) or 0)
    except GridError as exc:
        print(f"{exc.prefix}{exc.report()}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a bug: its traceback goes to the log, the user gets one line
        print(f"gridtui: {one_line(exc)}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
