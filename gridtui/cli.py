"""Entry point: `gridtui` opens the console; subcommands run the same services headless."""

from __future__ import annotations

import argparse
import contextlib
import gc
import importlib
import os
import signal
import sys
from collections.abc import Sequence
from types import FrameType

from gridtui.commands import options

# Subcommand modules, imported only when their command runs, so the console's first
# frame never pays for Ray or asyncssh imports it does not need yet.
COMMAND_MODULES = (
    "config_cmd",
    "cluster_cmd",
    "demo_cmd",
    "boost_cmd",
    "sharing_cmd",
    "offload_cmd",
    "memory_cmd",
    "token_cmd",
    "serve_cmd",
    "node_cmd",
    "job_cmd",
    "work_cmd",
    "groups_cmd",
)
# The command words whose module is not named after them (the rest: `WORD_cmd`).
COMMAND_WORDS = {"resource-sharing": "sharing_cmd", "why": "work_cmd"}

# Every command's exit codes (docs/troubleshooting.md): 1 is "unhealthy, or the cluster
# refused or failed"; 2 is "bad usage, or a bad or missing cluster file" (also what a
# GridError subclass with exit_code 2 returns).
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
EXIT_PIPE_CLOSED = 128 + signal.SIGPIPE
LATE_INTERRUPT = "gridtui: interrupted as it exited: the command had finished; what it did stands"


def command_module(word: str) -> str | None:
    """The module that registers the command `word`, or None for no such command."""
    name = COMMAND_WORDS.get(word, word.replace("-", "_") + "_cmd")
    return name if name in COMMAND_MODULES else None


def build_parser(*, commands: bool = True, only: str | None = None) -> options.Parser:
    """`only`: register that command module alone (a command's run imports just its own
    module: `boost status` no longer pays for the job, work and serve modules' imports)."""
    parser = options.Parser(
        prog="gridtui",
        description="A keyboard-driven console for a pool of machines run by Ray over SSH.",
        epilog="exit codes: 0 ok, 1 unhealthy or refused by the cluster, "
        "2 bad usage or bad cluster file, 130 interrupted",
    )
    parser.add_argument(
        "-c", "--config", type=options.path, help="cluster file (default: the lookup order)"
    )
    parser.add_argument(
        "--theme", type=options.theme, help="console theme (remembered for next time)"
    )
    parser.add_argument(
        "--read-only",
        action="store_true",
        help="console that refuses every key that changes the cluster (also ui.read_only)",
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    if not commands:
        return parser
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in (only,) if only else COMMAND_MODULES:
        importlib.import_module(f"gridtui.commands.{name}").register(sub)
    return parser


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Without a subcommand (the console), only the top-level options are parsed: the
    subcommands' modules import pydantic and more, which the first frame does not need."""
    words = list(sys.argv[1:] if argv is None else argv)
    if not {"-h", "--help"} & set(words):
        args, rest = build_parser(commands=False).parse_known_args(words)
        if not rest:
            args.command = None
            return args
    # A known command: only its module (an unknown word gets every command's parser, so
    # the error lists them all).
    word = _command_word(words)
    return build_parser(only=command_module(word) if word else None).parse_args(words)


def _command_word(words: Sequence[str]) -> str | None:
    """The first word that is neither a top-level option nor an option's value."""
    value = False
    for word in words:
        if value:
            value = False
        elif word == "--":
            return None
        elif word.startswith("-"):
            value = word in ("-c", "--config", "--theme")
        else:
            return word
    return None


def _late_interrupt_exits_130() -> None:
    """Once a command is done, the interpreter's teardown (Ray's own exit handler among
    it) may take a moment: a Ctrl-C then ends the process at once with 130, rather than a
    traceback from an exit handler and the command's own code."""

    def on_sigint(signum: int, frame: FrameType | None) -> None:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            print(LATE_INTERRUPT, file=sys.stderr)
            sys.stderr.flush()
        os._exit(EXIT_INTERRUPTED)

    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, on_sigint)


def main(argv: Sequence[str] | None = None) -> int:
    """The program (argv None: sys.argv), or one command run in-process (tests)."""
    code = run_command(argv)
    try:  # output to a pipe is buffered: a reader that went away shows here
        sys.stdout.flush()
    except BrokenPipeError:
        code = _reader_gone()
    if argv is None and code != EXIT_INTERRUPTED:
        _late_interrupt_exits_130()
    return code


def _reader_gone() -> int:
    """The reader of stdout went away (`gridtui work --json | head`): end quietly, as `cat`
    does on SIGPIPE. Stdout goes to /dev/null so the interpreter's last flush cannot fail."""
    with contextlib.suppress(OSError, ValueError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return EXIT_PIPE_CLOSED


def run_command(argv: Sequence[str] | None) -> int:
    try:
        args = parse_args(argv)
    except SystemExit as done:  # --help, or a usage error already printed on one line
        return done.code if isinstance(done.code, int) else EXIT_USAGE
    except KeyboardInterrupt:  # while the commands' modules were still being imported
        return EXIT_INTERRUPTED
    if args.version:
        from gridtui import __version__

        print(f"gridtui {__version__}")
        return EXIT_OK
    from gridtui.errors import GridError, one_line

    try:
        if args.command is None:
            # Off until the console's first frame (run_console turns it back on): its full
            # pass over the objects the imports create cost ~0.1 s of that frame, and
            # nothing before it makes garbage worth the walk.
            gc.disable()
            from gridtui.ui.console import run_console

            return run_console(args)
        code = int(args.func(args) or 0)
        if getattr(args, "console_view", None):  # `offload watch`: its file checked first
            from gridtui.ui.console import run_console

            return run_console(args)
        return code
    except GridError as exc:
        print(f"{exc.prefix}{exc.report()}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return _reader_gone()
    except Exception as exc:  # a bug: its traceback goes to the log, the user gets one line
        print(f"gridtui: {one_line(exc)}", file=sys.stderr)
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
